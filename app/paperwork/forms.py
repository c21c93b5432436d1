from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional


class PaperSettingsForm(FlaskForm):
    paper_place = StringField(_l("Place printed before the date (e.g. Huế)"), validators=[Length(max=100)])
    paper_date = DateField(_l("Date printed (empty: the publication date)"), validators=[Optional()])
    signer_title = StringField(
        _l("Signer's title (e.g. TRƯỞNG BAN TỔ CHỨC, or GIÁM ĐỐC)"), validators=[Length(max=200)]
    )
    signer_name = StringField(_l("Signer's full name"), validators=[Length(max=200)])
    panel_head_name = StringField(_l("Head of the judging panel (signs the minutes)"), validators=[Length(max=200)])
