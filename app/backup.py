"""Backups: a consistent copy of the database and of every object in the bucket, with a manifest of sizes and
checksums, and their restore into an empty database and bucket (`flask --app wsgi backup create|restore`).

Layout of a backup directory:
    manifest.json            format, time, database (dialect, file, size, sha256, alembic revision), objects
    database.sqlite3         SQLite's online backup API (a consistent copy while the portal runs), or
    database.pgdump          pg_dump --format=custom (one transaction: a consistent snapshot)
    objects/<key>            every object of the bucket, byte for byte

The database is copied first, then the bucket. Objects are never changed in place (originals are kept, derived files
have deterministic keys), so every object the database copy refers to is in the bucket copy; objects added meanwhile
are copied too and are harmless.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from app import db
from app.models import Base, utcnow
from app.storage import Storage

FORMAT = 1
MANIFEST = "manifest.json"
OBJECTS = "objects"


class BackupError(Exception):
    """The backup cannot be made or restored; the message says why (commands print it and exit 1)."""


@dataclass(frozen=True)
class Summary:
    directory: str
    database: str
    objects: int
    bytes: int

    def as_dict(self) -> dict:
        return {"directory": self.directory, "database": self.database, "objects": self.objects, "bytes": self.bytes}


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks (backups, and the worker's check of a downloaded original)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _object_path(root: Path, key: str) -> Path:
    """Where an object lives in a backup; refuses keys that would leave the directory."""
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(p in ("..", ".", "") for p in parts):
        raise BackupError(f"refusing object key {key!r}")
    return root / OBJECTS / Path(*parts)


def _dialect(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL for pg_dump/pg_restore without the password (passed in PGPASSWORD instead, out of `ps`)."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the postgresql-client package (make setup does)")
    return found


def _alembic_revision() -> str | None:
    with db.engine().connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _dump_database(url: str, out: Path) -> Path:
    if _dialect(url) == "sqlite":
        target = out / "database.sqlite3"
        source = make_url(url).database
        if not source or not Path(source).exists():
            raise BackupError(f"no SQLite database at {source}")
        src = sqlite3.connect(source)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # consistent even while the portal writes (WAL readers see one snapshot)
        finally:
            dst.close()
            src.close()
        return target
    target = out / "database.pgdump"
    plain, env = _libpq(url)
    done = subprocess.run(  # noqa: S603 - our own argument list, no shell
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(target), plain],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return target


def create_backup(*, database_url: str, storage: Storage, out: Path) -> Summary:
    """Copy the database, then every object of the bucket, into out (new or empty); write the manifest last."""
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)
    started = utcnow()
    revision = _alembic_revision()
    dump = _dump_database(database_url, out)
    objects = []
    for key in storage.keys():  # noqa: SIM118 - Storage.keys() lists the bucket; Storage is no mapping
        path = _object_path(out, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        head = storage.client.head_object(Bucket=storage.bucket, Key=key)
        storage.download_file(key, str(path))
        objects.append(
            {
                "key": key,
                "size": path.stat().st_size,
                "sha256": sha256_of(path),
                "content_type": head.get("ContentType"),
            }
        )
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(),
        "finished_at": utcnow().isoformat(),
        "database": {
            "dialect": _dialect(database_url),
            "file": dump.name,
            "size": dump.stat().st_size,
            "sha256": sha256_of(dump),
            "alembic_revision": revision,
        },
        "bucket": storage.bucket,
        "objects": objects,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return Summary(str(out), dump.name, len(objects), sum(o["size"] for o in objects))


def read_manifest(source: Path) -> dict:
    """The manifest, after checking that every file it lists is there with its size and checksum."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"no readable {MANIFEST} in {source}: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    files = [(source / manifest["database"]["file"], manifest["database"])]
    files += [(_object_path(source, o["key"]), o) for o in manifest["objects"]]
    bad = []
    for path, meta in files:
        if not path.is_file() or path.stat().st_size != meta["size"] or sha256_of(path) != meta["sha256"]:
            bad.append(str(path.relative_to(source)))
    if bad:
        raise BackupError(f"{len(bad)} file(s) missing or damaged in the backup: {', '.join(bad[:10])}")
    return manifest


def _database_is_empty(url: str) -> bool:
    """True when none of the portal's tables holds a row (a schema without data counts as empty)."""
    if _dialect(url) == "sqlite":
        path = make_url(url).database
        if path and not Path(path).exists():
            return True
    engine = db.engine()
    with engine.connect() as conn:
        existing = set(inspect(conn).get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name in existing and conn.scalar(select(func.count()).select_from(table)):
                return False
    return True


def _restore_database(url: str, dump: Path, dialect: str) -> None:
    if _dialect(url) != dialect:
        raise BackupError(f"this backup holds a {dialect} database; DATABASE_URL is {_dialect(url)}")
    db.session.remove()
    db.engine().dispose()  # no connection of ours may hold the database while it is replaced
    if dialect == "sqlite":
        target = make_url(url).database
        if not target:
            raise BackupError("DATABASE_URL names no SQLite file")
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(dump)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    plain, env = _libpq(url)
    done = subprocess.run(  # noqa: S603 - our own argument list, no shell
        [
            *(_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges"),
            *("--single-transaction", "--exit-on-error", "--dbname", plain, str(dump)),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def restore_backup(
    *, database_url: str, storage: Storage, source: Path, prefixes: tuple[str, ...] = (), objects_only: bool = False
) -> Summary:
    """Fill an empty database and bucket from a backup (checked first).

    objects_only with prefixes puts back only the objects under those prefixes into a live bucket (a deleted entry's
    files), leaving the database alone and never overwriting an object that exists."""
    manifest = read_manifest(source)
    wanted = [o for o in manifest["objects"] if not prefixes or any(o["key"].startswith(p) for p in prefixes)]
    storage.ensure_bucket()
    if objects_only:
        if not prefixes:
            raise BackupError("--objects-only needs at least one --prefix")
        wanted = [o for o in wanted if not storage.exists(o["key"])]
    else:
        if storage.keys():
            raise BackupError(f"the bucket {storage.bucket} is not empty; restore into an empty bucket")
        if not _database_is_empty(database_url):
            raise BackupError("the database is not empty; restore into an empty database")
        _restore_database(database_url, source / manifest["database"]["file"], manifest["database"]["dialect"])
    for obj in wanted:
        storage.put_file(obj["key"], str(_object_path(source, obj["key"])), content_type=obj.get("content_type"))
        if storage.size(obj["key"]) != obj["size"]:
            raise BackupError(f"the store kept {obj['key']} with another size")
    database = "" if objects_only else manifest["database"]["file"]
    return Summary(str(source), database, len(wanted), sum(o["size"] for o in wanted))
