"""`flask storage`: the object store."""

from __future__ import annotations

from flask import current_app
from flask.cli import AppGroup

from app.cli.common import echo_json
from app.connections import storage

storage_group = AppGroup("storage", help="Object storage.")


@storage_group.command("init")
def storage_init() -> None:
    """Create the bucket when it does not exist (idempotent); prints the endpoint and bucket."""
    store = storage()
    store.ensure_bucket()
    echo_json({"endpoint": current_app.config["S3_ENDPOINT_URL"], "bucket": store.bucket})
