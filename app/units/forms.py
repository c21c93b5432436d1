from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class EntryForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=300)])
    summary = TextAreaField(_l("Summary of the initiative, model or solution"), validators=[Length(max=10000)])
    authors = TextAreaField(_l("Authors (one per line)"), validators=[Length(max=10000)])
    category_id = SelectField(_l("Category"), coerce=int, default=0)
