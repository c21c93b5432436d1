"""Which errors the worker retries with backoff (outages of ours) and which fail the clip at once."""

from __future__ import annotations

import errno

import pytest
import redis.exceptions
import sqlalchemy.exc
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from media_worker.faults import is_infrastructure_error
from media_worker.pipeline_types import MediaError


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")


def _wrapped(inner: BaseException) -> BaseException:
    """What boto3's upload_file raises: its own error, raised while handling the store's."""
    try:
        try:
            raise inner
        except ClientError as exc:
            raise S3UploadFailedError(f"Failed to upload: {exc}")  # noqa: B904 - boto3 does exactly this
    except S3UploadFailedError as outer:
        return outer


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
        _client_error("SlowDown", 503),
        _client_error("InternalError", 500),
        _wrapped(_client_error("ServiceUnavailable", 503)),
        sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly")),
        sqlalchemy.exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")),
        redis.exceptions.ConnectionError("Connection refused"),
        OSError(errno.ENOSPC, "No space left on device"),
        ConnectionResetError(),
        TimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_outages_of_ours_are_infrastructure_errors(exc):
    assert is_infrastructure_error(exc)
    try:
        raise RuntimeError("clip 1") from exc
    except RuntimeError as outer:
        assert is_infrastructure_error(outer)  # found through the chain


@pytest.mark.parametrize(
    "exc",
    [
        _client_error("NoSuchKey", 404),
        _client_error("AccessDenied", 403),
        _wrapped(_client_error("AccessDenied", 403)),
        sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
        OSError(errno.ENOENT, "No such file"),
        MediaError("ffmpeg exited with 1"),
        ValueError("a bug"),
        KeyError("renditions"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_everything_else_is_not(exc):
    assert not is_infrastructure_error(exc)
