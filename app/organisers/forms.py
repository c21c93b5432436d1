import math

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from app.judging_text import TIE_BREAK_SLOTS, tie_break_choices
from app.labels import choices
from app.models import AggregationMethod, AssignmentMode, AwardKind, Role, UnitKind


class ContestForm(FlaskForm):
    slug = StringField(_l("Short name (in the address)"), validators=[DataRequired(), Length(min=3, max=60)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)])
    rules_md = TextAreaField(_l("Rules (Markdown)"), validators=[Length(max=100000)])
    opens_at = DateTimeLocalField(_l("Opens at"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField(_l("Deadline"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    min_duration_s = FloatField(
        _l("Minimum duration (seconds)"), validators=[Optional(), NumberRange(min=0, max=86400)]
    )
    max_duration_s = FloatField(
        _l("Maximum duration (seconds)"), validators=[Optional(), NumberRange(min=1, max=86400)]
    )
    min_height = IntegerField(_l("Minimum video height (pixels)"), validators=[Optional(), NumberRange(1, 4320)])
    max_entries_per_unit = IntegerField(
        _l("Maximum entries per unit"), validators=[Optional(), NumberRange(min=1, max=1000)]
    )
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
    # Empty: the account gets an invitation by mail to choose its own password.
    password = PasswordField(_l("Initial password"), validators=[Optional(), Length(min=8, max=200)])


CRITERION_ROWS = 3  # shown at first; "Add a criterion" adds more (with or without JavaScript)


MAX_CRITERIA = 50


class DecimalField(FloatField):
    """A number written either way, 0,5 or 0.5; an empty box means "not given" (the service's default applies)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0].strip().replace(",", ".")
        if not raw:
            self.data = None
            return
        super().process_formdata([raw])
        if self.data is not None and not math.isfinite(self.data):
            self.data = None
            raise ValueError(self.gettext("Not a valid float value."))

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:g}"


class CriterionForm(Form):
    """One rubric row; a row without a name is unused and not checked."""

    name = StringField(_l("Criterion"))
    max_points = DecimalField(_l("Max points"))
    weight = DecimalField(_l("Weight"), default=1)
    step = DecimalField(_l("Step"), default=0.5)
    description = StringField(_l("Description"))
    levels = StringField(_l("Level descriptions (optional)"))

    def validate(self, extra_validators=None) -> bool:
        if not self.used:
            return True
        valid = super().validate(extra_validators)
        if self.max_points.data is None and not self.max_points.errors:
            self.max_points.errors = ["missing"]
        wrong = [number for number in (self.max_points, self.weight, self.step) if number.errors]
        message = _l(
            "Criterion “%(name)s”: maximum points, weight and step must be numbers.", name=self.name.data.strip()
        )
        for number in wrong:
            number.errors = [message]
        return valid and not wrong

    @property
    def used(self) -> bool:
        return bool((self.name.data or "").strip())


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
    # Each slot is one rule, in order; the choices name the rubric's rows (see `set_tie_break_choices`).
    tie_breaks = FieldList(
        SelectField(_l("Tie-break rule"), choices=[], default=""),
        label=_l("When totals are equal, decide by"),
        min_entries=TIE_BREAK_SLOTS,
        max_entries=TIE_BREAK_SLOTS,
    )
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
        _l("Flag entries whose judge totals differ by more than"),
        validators=[Optional(), NumberRange(min=0, max=1e6)],
    )
    criteria = FieldList(FormField(CriterionForm), min_entries=CRITERION_ROWS, max_entries=MAX_CRITERIA)

    def set_tie_break_choices(self) -> None:
        """Offer every rubric row (by the name typed so far) besides the median and first places."""
        names = [row.form.name.data or "" for row in self.criteria]
        for slot in self.tie_breaks:
            slot.choices = tie_break_choices(names)

    def validate_tie_breaks(self, field) -> None:
        for slot in field:
            if slot.data and slot.data.startswith("row:"):
                index = int(slot.data[4:])
                if index >= len(self.criteria) or not self.criteria[index].form.used:
                    message = _l("A tie-break rule names an empty rubric row: give that criterion a name.")
                    slot.errors.append(message)  # shown at the rule's own field
                    raise ValidationError(message)

    def tie_break_rules(self) -> list[str]:
        """The chosen rules, in order, as the service stores them (`criterion:<name>`, `median`, `first_places`)."""
        rules = []
        for slot in self.tie_breaks:
            if slot.data and slot.data.startswith("row:"):
                rules.append("criterion:" + self.criteria[int(slot.data[4:])].form.name.data.strip())
            elif slot.data:
                rules.append(slot.data)
        return list(dict.fromkeys(rules))

    def rubric(self) -> list[dict]:
        """The used rows as the service wants them: name, description, max_points, weight, step, levels."""
        return [row.form.data for row in self.criteria if row.form.used]

    def rubric_errors(self) -> list[str]:
        """The rubric's error messages, once each, in row order."""
        seen: dict[str, None] = {}
        for row in self.criteria:
            for errors in row.form.errors.values():
                seen.update((str(message), None) for message in errors)
        return list(seen)


class AwardForm(FlaskForm):
    name = StringField(_l("Award name"), validators=[DataRequired(), Length(max=200)])
    count = IntegerField(_l("Number of prizes"), validators=[DataRequired(), NumberRange(min=1, max=1000)], default=1)
    kind = SelectField(_l("Kind of prize"), choices=choices(AwardKind), default=AwardKind.GROUP.value)


class AccountEditForm(FlaskForm):
    """Staff editing an account: the role choices are narrowed to the actor's rights by the view."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=200)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(Role))
    unit_id = SelectField(_l("Unit"), coerce=int, default=0)
    active = BooleanField(_l("Active (may log in)"))


class NewsForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    body_md = TextAreaField(_l("Text (Markdown)"), validators=[Length(max=100000)])
    publish = BooleanField(_l("Published (visible to the public)"))


class MaterialForm(FlaskForm):
    title = StringField(_l("Title (optional: the file name otherwise)"), validators=[Length(max=300)])
    file = FileField(_l("Document (PDF, DOCX, XLSX or PPTX, at most 50 MB)"), validators=[FileRequired()])


class BannerForm(FlaskForm):
    banner = FileField(_l("Banner image (JPEG, PNG or WebP, at most 8 MB)"), validators=[FileRequired()])


class GalleryForm(FlaskForm):
    public = BooleanField(_l("Show every submitted, ready entry publicly once the results are published"))
