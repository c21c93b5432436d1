"""Bulk import of units and their contact accounts from a CSV or XLSX file.

`read_table` turns the file into numbered rows (spreadsheet numbering: the header is row 1), `plan_import` checks
every row against the database and says what would change, and `apply_import` carries a plan without errors out in
the caller's transaction, inviting the accounts it created. Importing the same file twice changes nothing the second
time and invites no one.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.db import DbSession
from app.labels import LABELS
from app.models import Role, Unit, UnitKind, User
from app.permissions import can_manage_account, require
from app.services import PortalError
from app.services.accounts import create_unit, create_user, update_account
from app.services.audit import record_event
from app.services.invitations import invite_user
from app.services.notifications import link_context

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

# (field, Vietnamese header as in the template, other accepted names). Matching ignores case, accents and spacing.
COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("code", "Mã đơn vị", ("unit code", "code", "mã")),
    ("name", "Tên đơn vị", ("unit name", "name", "tên")),
    ("kind", "Loại đơn vị", ("kind", "unit kind", "loại")),
    ("contact_name", "Người liên hệ", ("contact person", "contact name", "contact", "họ và tên", "họ tên")),
    (
        "contact_email",
        "Thư điện tử liên hệ",
        ("contact e-mail", "contact email", "e-mail", "email", "e-mail liên hệ", "email liên hệ", "thư điện tử"),
    ),
    ("phone", "Điện thoại", ("phone", "telephone", "số điện thoại", "điện thoại liên hệ")),
)
REQUIRED = ("code", "name")
TEMPLATE_HEADERS = [vi for _field, vi, _other in COLUMNS]


def _key(text: str) -> str:
    """A header or label reduced for matching: no accents, no case, single spaces, no hyphens."""
    decomposed = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[\s_\-]+", " ", plain).strip()


HEADER_FIELDS = {_key(name): fld for fld, vi, other in COLUMNS for name in (fld, vi, *other)}


@dataclass(frozen=True)
class RowError:
    row: int
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "message": self.message}


@dataclass
class RowPlan:
    """What one good row does: the unit is created, updated or unchanged; so is its contact account."""

    row: int
    code: str
    name: str
    kind: UnitKind
    phone: str | None
    contact_name: str
    contact_email: str | None
    unit_action: str  # create | update | same
    account_action: str  # create | update | same | none
    changes: dict[str, tuple] = field(default_factory=dict)

    @property
    def action(self) -> str:
        """create (a new unit), update (the unit or its account changes) or same."""
        if self.unit_action == "create":
            return "create"
        if self.unit_action == "update" or self.account_action in ("create", "update"):
            return "update"
        return "same"


@dataclass
class ImportPlan:
    rows: list[RowPlan]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def accounts_to_create(self) -> int:
        return sum(1 for r in self.rows if r.account_action == "create")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    invited: int
    errors: list[RowError]

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "invited": self.invited,
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass(frozen=True)
class UnitImport:
    """The audit log's object for one import (the rows' own events name each unit and account)."""

    id: None = None


class ImportFileError(PortalError):
    """The file as a whole cannot be read (format, encoding, headers); `row` is 1 for the headers, else None."""

    def __init__(self, message, *, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


def read_table(filename: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as (spreadsheet row number, {field: text}); blank rows are skipped. Raises ImportFileError."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(_l("The file is too large (at most %(mb)d MB).", mb=MAX_BYTES // (1024 * 1024)))
    name = filename.lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        table = _xlsx_rows(data)
    elif name.endswith(".csv") or name.endswith(".txt") or not name:
        table = _csv_rows(data)
    else:
        raise ImportFileError(_l("Upload a CSV or XLSX file."))
    if not table:
        raise ImportFileError(_l("The file is empty."))
    header, *body = table
    fields = _header_fields(header)
    rows = []
    for number, values in enumerate(body, start=2):
        cells = {fld: _text(values[i]) if i < len(values) else "" for i, fld in fields.items()}
        if any(cells.values()):
            rows.append((number, cells))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_l("The file has more than %(count)d rows.", count=MAX_ROWS))
    return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code or phone typed as a number
    return unicodedata.normalize("NFC", str(value)).strip()


def _csv_rows(data: bytes) -> list[list]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_l("The CSV file is not in UTF-8. Save it as “CSV UTF-8” and try again.")) from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook  # here: about 70 ms that every process would pay at start (app/spreadsheets.py)

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise ImportFileError(_l("The file cannot be read as an XLSX workbook.")) from None
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _header_fields(header: list) -> dict[int, str]:
    fields: dict[int, str] = {}
    for i, cell in enumerate(header):
        fld = HEADER_FIELDS.get(_key(_text(cell)))
        if fld and fld not in fields.values():
            fields[i] = fld
    missing = [vi for fld, vi, _o in COLUMNS if fld in REQUIRED and fld not in fields.values()]
    if missing:
        raise ImportFileError(
            _l("Row 1 must hold the column headers; missing: %(columns)s.", columns=", ".join(missing)), row=1
        )
    return fields


def kind_names() -> dict[str, UnitKind]:
    """Every accepted spelling of a unit kind: its code, and its label in each language."""
    names: dict[str, UnitKind] = {}
    for locale in ("en", "vi"):
        with force_locale(locale):
            for kind, text in LABELS[UnitKind].items():
                names[_key(str(text))] = UnitKind(kind.value)
    names.update({_key(kind.value): kind for kind in UnitKind})
    return names


def plan_import(session: DbSession, rows: list[tuple[int, dict[str, str]]]) -> ImportPlan:
    """Check every row and say what applying it would change; nothing is written."""
    kinds = kind_names()
    plans: list[RowPlan] = []
    errors: list[RowError] = []
    seen_codes: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    units = {u.code.upper(): u for u in session.scalars(select(Unit))}
    accounts = {u.email.lower(): u for u in session.scalars(select(User))}
    for number, cells in rows:
        problem, plan = _plan_row(number, cells, kinds, units, accounts, seen_codes, seen_emails)
        if problem is not None:
            errors.append(RowError(number, str(problem)))
        elif plan is not None:
            plans.append(plan)
    return ImportPlan(rows=plans, errors=errors)


def _plan_row(number, cells, kinds, units, accounts, seen_codes, seen_emails):
    code = cells.get("code", "").upper()
    name = cells.get("name", "")
    if not code:
        return _l("The unit code is missing."), None
    if len(code) > 40 or not re.fullmatch(r"[A-Z0-9][A-Z0-9._\-]*", code):
        return _l("The unit code %(code)s is not valid (letters, digits, . _ -, at most 40).", code=code), None
    if code in seen_codes:
        return _l("The unit code %(code)s is already in row %(row)d.", code=code, row=seen_codes[code]), None
    seen_codes[code] = number
    if not name:
        return _l("The unit name is missing."), None
    if len(name) > 200:
        return _l("The unit name is longer than 200 characters."), None
    raw_kind = cells.get("kind", "")
    kind = kinds.get(_key(raw_kind)) if raw_kind else UnitKind.OTHER
    if kind is None:
        return _l("Unknown unit kind: %(kind)s.", kind=raw_kind), None
    phone = cells.get("phone") or None
    if phone and (len(phone) > 40 or not re.fullmatch(r"[0-9+()./ \-]+", phone)):
        return _l("The phone number %(phone)s is not valid.", phone=phone), None
    contact_name = cells.get("contact_name", "")
    raw_email = cells.get("contact_email", "")
    email = None
    if raw_email:
        try:
            email = validate_email(raw_email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            return _l("The e-mail address %(email)s is not valid.", email=raw_email), None
        if email in seen_emails:
            return _l("The e-mail %(email)s is already in row %(row)d.", email=email, row=seen_emails[email]), None
        seen_emails[email] = number
        if not contact_name:
            return _l("The contact person is missing for %(email)s.", email=email), None
        if len(contact_name) > 200 or len(email) > 200:
            return _l("The contact person or e-mail is longer than 200 characters."), None
    unit = units.get(code)
    changes: dict[str, tuple] = {}
    if unit is None:
        unit_action = "create"
    else:
        for attr, new in (("name", name), ("kind", kind), ("phone", phone)):
            if getattr(unit, attr) != new:
                changes[attr] = (getattr(unit, attr), new)
        unit_action = "update" if changes else "same"
    account_action = "none"
    if email:
        account = accounts.get(email)
        if account is None:
            account_action = "create"
        elif account.role != Role.UNIT or unit is None or account.unit_id != unit.id:
            return _l("The e-mail %(email)s belongs to another account.", email=email), None
        elif account.name != contact_name:
            changes["contact_name"] = (account.name, contact_name)
            account_action = "update"
        else:
            account_action = "same"
    plan = RowPlan(
        row=number,
        code=code,
        name=name,
        kind=kind,
        phone=phone,
        contact_name=contact_name,
        contact_email=email,
        unit_action=unit_action,
        account_action=account_action,
        changes=changes,
    )
    return None, plan


Inviter = Callable[[DbSession, User, User | None], None]


def apply_import(
    session: DbSession, *, actor: User | None, plan: ImportPlan, invite: bool, filename: str = ""
) -> ImportResult:
    """Carry out a plan without errors (audited; actor None is the command line); invites the accounts it creates
    when `invite`. Raises PortalError when the plan has errors: nothing is applied then."""
    require(actor is None or can_manage_account(actor, Role.UNIT), _l("You may not manage unit accounts."))
    if not plan.ok:
        raise PortalError(_l("The file has rows with errors; nothing was imported."))
    invited = 0
    for row in plan.rows:
        unit = session.scalar(select(Unit).where(func.upper(Unit.code) == row.code))
        if unit is None:
            unit = create_unit(session, actor=actor, code=row.code, name=row.name, kind=row.kind, phone=row.phone)
        elif row.unit_action == "update":
            before = {k: _plain(v[0]) for k, v in row.changes.items() if k != "contact_name"}
            unit.name, unit.kind, unit.phone = row.name, row.kind, row.phone
            session.flush()
            after = {k: _plain(v[1]) for k, v in row.changes.items() if k != "contact_name"}
            record_event(session, actor=actor, action="unit.update", obj=unit, before=before, after=after)
        if row.account_action == "create" and row.contact_email:
            user = create_user(
                session,
                actor=actor,
                email=row.contact_email,
                name=row.contact_name,
                password=None,
                role=Role.UNIT,
                unit=unit,
            )
            if invite:
                invite_account(session, user=user, actor=actor)
                invited += 1
        elif row.account_action == "update" and row.contact_email:
            account = session.scalar(select(User).where(func.lower(User.email) == row.contact_email))
            if account is not None:
                update_account(session, actor=actor, user=account, name=row.contact_name)
    result = ImportResult(created=plan.count("create"), updated=plan.count("update"), invited=invited, errors=[])
    record_event(
        session,
        actor=actor,
        action="unit.import",
        obj=UnitImport(),
        after={"file": filename, "created": result.created, "updated": result.updated, "invited": invited},
    )
    return result


def _plain(value):
    return value.value if isinstance(value, UnitKind) else value


def invite_account(session: DbSession, *, user: User, actor: User | None) -> None:
    """Send an account the import created its invitation (a one-time link to set a password)."""
    with link_context():
        invite_user(session, user=user, actor=actor)
