"""`flask units` and `flask users`: units and accounts, created by the operator (audited with no actor)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from app.cli.common import committing, current_session, echo_json, unit_by_code
from app.models import Role, User
from app.services import accounts, invitations, unit_import

units_group = AppGroup("units", help="Units (departments, wards, associations, schools).")
users_group = AppGroup("users", help="Accounts.")


@units_group.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--kind", default="other", show_default=True, type=click.Choice(accounts.UNIT_KINDS))
def units_add(code: str, name: str, kind: str) -> None:
    """Add a unit; prints its JSON."""
    with committing() as session:
        unit = accounts.create_unit(session, actor=None, code=code, name=name, kind=kind)
    echo_json({"id": unit.id, "code": unit.code, "name": unit.name, "kind": unit.kind})


@units_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--invite", is_flag=True, help="Send each account created its invitation.")
def units_import(file: str, invite: bool) -> None:
    """Import units and their contact accounts from CSV or XLSX; prints
    {"created", "updated", "invited", "errors": [{"row", "message"}]}. Any bad row: nothing applied, exit status 1."""
    from pathlib import Path

    path = Path(file)
    with force_locale("en"):
        try:
            rows = unit_import.read_table(path.name, path.read_bytes())
        except unit_import.ImportFileError as exc:
            echo_json({"created": 0, "updated": 0, "invited": 0, "errors": [{"row": exc.row, "message": str(exc)}]})
            raise SystemExit(1) from None
        session = current_session()
        plan = unit_import.plan_import(session, rows)
        if not plan.ok:
            session.rollback()
            echo_json({"created": 0, "updated": 0, "invited": 0, "errors": [error.as_dict() for error in plan.errors]})
            raise SystemExit(1)
    with committing() as session:
        result = unit_import.apply_import(session, actor=None, plan=plan, invite=invite, filename=path.name)
    echo_json(result.as_dict())


@users_group.command("add")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--unit", "unit_code", default=None, help="Unit code (required for unit members).")
@click.option("--password", default=None, help="The initial password (or use --invite).")
@click.option("--invite", is_flag=True, help="No password: mail the account a link to set one (valid 7 days).")
def users_add(email: str, name: str, role: str, unit_code: str | None, password: str | None, invite: bool) -> None:
    """Add an account with exactly one of --password or --invite (never prompts); prints its JSON."""
    if (password is None) == (not invite):
        raise click.UsageError("give exactly one of --password P or --invite")
    with committing() as session:
        unit = unit_by_code(session, unit_code) if unit_code else None
        user = accounts.create_user(
            session, actor=None, email=email, name=name, password=password, role=Role(role), unit=unit
        )
        if invite:
            invitations.invite_user(session, user=user, actor=None)
    echo_json({"id": user.id, "email": user.email, "role": user.role.value, "invited": invite})


@users_group.command("set-password")
@click.argument("email")
@click.password_option("--password", confirmation_prompt=False)
def users_set_password(email: str, password: str) -> None:
    """Reset an account's password: ends its sessions everywhere and clears its login lock; prints its JSON."""
    from app.auth.throttle import clear_account_lock

    with committing() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"no account {email!r}")
        accounts.set_password(session, actor=None, user=user, password=password)
    clear_account_lock(user.email)
    echo_json({"id": user.id, "email": user.email, "sessions_ended": True})
