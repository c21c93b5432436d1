from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from app.labels import choices
from app.models import AggregationMethod, AssignmentMode, AwardKind, Role, UnitKind


class ContestForm(FlaskForm):
    slug = StringField(_l("Short name (in the address)"), validators=[DataRequired(), Length(min=3, max=60)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)])
    rules_md = TextAreaField(_l("Rules (Markdown)"), validators=[Length(max=100000)])
    opens_at = DateTimeLocalField(_l("Opens at"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField(_l("Deadline"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    min_duration_s = FloatField(_l("Minimum duration (seconds)"), validators=[Optional(), NumberRange(min=0)])
    max_duration_s = FloatField(_l("Maximum duration (seconds)"), validators=[Optional(), NumberRange(min=1)])
    min_height = IntegerField(_l("Minimum video height (pixels)"), validators=[Optional(), NumberRange(1, 4320)])
    max_entries_per_unit = IntegerField(_l("Maximum entries per unit"), validators=[Optional(), NumberRange(min=1)])
    category_lines = TextAreaField(_l("Categories (one per line)"), validators=[Length(max=5000)])


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=choices(UnitKind), default=UnitKind.OTHER.value)


class AccountForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=200)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(Role, [Role.UNIT, Role.JUDGE, Role.ORGANISER]))
    unit_id = SelectField(_l("Unit"), coerce=int, default=0)
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=8, max=200)])


class RoundForm(FlaskForm):
    name = StringField(_l("Round name"), validators=[DataRequired(), Length(max=200)])
    blind = BooleanField(_l("Blind judging (hide units and authors from judges)"))
    opens_at = DateTimeLocalField(
        _l("Planned opening (Vietnam time)"), validators=[Optional()], format="%Y-%m-%dT%H:%M"
    )
    closes_at = DateTimeLocalField(
        _l("Scoring closes at (Vietnam time)"), validators=[Optional()], format="%Y-%m-%dT%H:%M"
    )
    aggregation = SelectField(
        _l("Official aggregation"), choices=choices(AggregationMethod), default=AggregationMethod.MEAN.value
    )
    tie_breaks = TextAreaField(_l("Tie-break rules, in order (one per line)"), validators=[Length(max=2000)])
    trim = IntegerField(
        _l("Trimmed mean: drop this many highest and lowest totals"),
        default=1,
        validators=[Optional(), NumberRange(min=0, max=10)],
    )
    assignment_mode = SelectField(
        _l("Who scores what"), choices=choices(AssignmentMode), default=AssignmentMode.PANEL.value
    )
    per_entry = IntegerField(_l("Judges per entry"), validators=[Optional(), NumberRange(min=1, max=50)])
    flag_threshold = FloatField(
        _l("Flag entries whose judge totals differ by more than"), validators=[Optional(), NumberRange(min=0)]
    )


class AwardForm(FlaskForm):
    name = StringField(_l("Award name"), validators=[DataRequired(), Length(max=200)])
    count = IntegerField(_l("Number of prizes"), validators=[DataRequired(), NumberRange(min=1, max=1000)], default=1)
    kind = SelectField(_l("Kind of prize"), choices=choices(AwardKind), default=AwardKind.GROUP.value)
