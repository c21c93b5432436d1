"""`flask backup`: a consistent copy of the database and the bucket, and its restore (see app/backup.py)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.backup import BackupError, create_backup, restore_backup
from app.cli.common import echo_json
from app.connections import storage

backup_group = AppGroup("backup", help="Backups of the database and the object store.")


@backup_group.command("create")
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="A new or empty directory."
)
def backup_create(out: Path) -> None:
    """Copy the database and every object of the bucket into OUT, with a manifest of sizes and checksums; prints a
    summary as JSON."""
    try:
        summary = create_backup(database_url=current_app.config["DATABASE_URL"], storage=storage(), out=out)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    echo_json(summary.as_dict())


@backup_group.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--prefix", "prefixes", multiple=True, help="Only objects whose key starts with this (repeatable).")
@click.option(
    "--objects-only",
    is_flag=True,
    help="Put back only the objects under --prefix into the live bucket (never overwriting); the database stays as is.",
)
def backup_restore(source: Path, prefixes: tuple[str, ...], objects_only: bool) -> None:
    """Check the backup in SOURCE against its manifest, then fill the empty database and bucket from it; prints a
    summary as JSON."""
    try:
        summary = restore_backup(
            database_url=current_app.config["DATABASE_URL"],
            storage=storage(),
            source=source,
            prefixes=prefixes,
            objects_only=objects_only,
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    echo_json(summary.as_dict())
