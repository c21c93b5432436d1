"""Object storage over boto3: one code path for rclone serve s3, MinIO, Ceph and AWS."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import boto3
import botocore.config
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

CHUNK = 1024 * 1024
# What S3-compatible stores answer for a missing object or multipart upload (HEAD answers a bare 404).
NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchUpload", "404", "NotFound"})
# What they answer when the parts given cannot be assembled into an object.
REJECTED_PARTS_CODES = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall"})


class StorageError(Exception):
    """A refusal of the store that callers act on; other failures stay botocore's own errors."""


class StorageNotFound(StorageError):
    """The object or the multipart upload does not exist (any more)."""


class PartsRejected(StorageError):
    """The store cannot assemble the parts it was given into an object."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Raise StorageNotFound / PartsRejected for the store's answers that mean so, whatever the store's dialect."""
    try:
        yield
    except ClientError as exc:
        if _code(exc) in NOT_FOUND_CODES:
            raise StorageNotFound(_code(exc)) from exc
        if _code(exc) in REJECTED_PARTS_CODES:
            raise PartsRejected(_code(exc)) from exc
        raise


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


class Storage:
    """A bucket on an S3-compatible endpoint."""

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        max_attempts: int = 5,
    ) -> None:
        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=botocore.config.Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                # Non-AWS stores (rclone, MinIO) reject or mangle the newer default checksums.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": max_attempts, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    @classmethod
    def from_config(cls, cfg) -> Storage:
        """Build from a Flask config mapping or a Config object."""
        get = cfg.get if hasattr(cfg, "get") else lambda k: getattr(cfg, k)
        return cls(
            endpoint_url=get("S3_ENDPOINT_URL"),
            bucket=get("S3_BUCKET"),
            access_key=get("AWS_ACCESS_KEY_ID"),
            secret_key=get("AWS_SECRET_ACCESS_KEY"),
            region=get("S3_REGION") or "us-east-1",
            max_attempts=int(get("S3_MAX_ATTEMPTS") or 5),
        )

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist yet."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    def put_stream(self, key: str, stream: IO[bytes], *, content_type: str | None = None) -> StoredObject:
        """Upload a stream in constant memory, hashing it on the way; return size and sha256."""
        hasher = _HashingReader(stream)
        extra = {"ContentType": content_type} if content_type else {}
        self.client.upload_fileobj(
            hasher,
            self.bucket,
            key,
            ExtraArgs=extra,
            Config=TransferConfig(multipart_chunksize=16 * CHUNK, max_concurrency=4),
        )
        return StoredObject(key=key, size=hasher.size, sha256=hasher.hexdigest())

    def put_file(self, key: str, path: str, *, content_type: str | None = None) -> None:
        """Upload a local file (multipart for large files)."""
        extra = {"ContentType": content_type} if content_type else {}
        self.client.upload_file(path, self.bucket, key, ExtraArgs=extra)

    def download_file(self, key: str, path: str) -> None:
        """Copy an object to a local path without holding it in memory; StorageNotFound when it does not exist."""
        with _translated_errors():
            self.client.download_file(self.bucket, key, path)

    def size(self, key: str) -> int | None:
        """Object size in bytes, or None when it does not exist."""
        try:
            with _translated_errors():
                return self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except StorageNotFound:
            return None

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def keys(self, prefix: str = "") -> list[str]:
        """Every key under prefix."""
        out: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out.extend(obj["Key"] for obj in page.get("Contents", []))
        return out

    def open_range(self, key: str, start: int | None = None, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes [start, end] (inclusive) of an object in chunks; StorageNotFound when it does not exist."""
        kwargs = {"Bucket": self.bucket, "Key": key}
        if start is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end}"
        with _translated_errors():
            body = self.client.get_object(**kwargs)["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    # Multipart uploads: resumable browser uploads (app/services/uploads.py).

    def presign_get(self, key: str, *, expires_in: int, content_type: str, disposition: str) -> str:
        """A GET URL for key valid expires_in seconds, whose answer carries this type and Content-Disposition."""
        with _translated_errors():
            return self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": disposition,
                },
                ExpiresIn=expires_in,
            )

    def create_multipart(self, key: str, *, content_type: str | None = None) -> str:
        """Start a multipart upload; return its upload id."""
        extra = {"ContentType": content_type} if content_type else {}
        return self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **extra)["UploadId"]

    def presign_part(self, key: str, upload_id: str, part_number: int, *, length: int, expires_in: int) -> str:
        """A URL that accepts exactly one PUT of `length` bytes as this part, until it expires.

        Content-Length is a signed header, so the store refuses a body of any other size.
        """
        return self.client.generate_presigned_url(
            "upload_part",
            ExpiresIn=expires_in,
            HttpMethod="PUT",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "UploadId": upload_id,
                "PartNumber": part_number,
                "ContentLength": length,
            },
        )

    def upload_part_stream(self, key: str, upload_id: str, part_number: int, stream: IO[bytes], *, length: int) -> str:
        """Send `length` bytes read from a non-seekable stream as one part, in constant memory; return its ETag.

        The payload is sent unsigned (UNSIGNED-PAYLOAD): signing it would mean reading it twice. botocore cannot rewind
        the stream, so a failed request is not retried here; the browser retries the part.
        """
        self._allow_unsigned_streams()
        body = _UnsignedStream(stream, length)
        with _translated_errors():
            return self.client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=part_number, Body=body, ContentLength=length
            )["ETag"]

    def list_parts(self, key: str, upload_id: str) -> list[dict]:
        """Parts received so far: [{PartNumber, Size, ETag}] in part order; StorageNotFound when the upload is gone."""
        parts: list[dict] = []
        marker = 0
        while True:
            with _translated_errors():
                page = self.client.list_parts(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker)
            parts.extend(
                {"PartNumber": p["PartNumber"], "Size": p["Size"], "ETag": p["ETag"]} for p in page.get("Parts", [])
            )
            if not page.get("IsTruncated"):
                break
            marker = int(page["NextPartNumberMarker"])
        return sorted(parts, key=lambda p: p["PartNumber"])

    def complete_multipart(self, key: str, upload_id: str, parts: list[dict]) -> None:
        """Assemble the object from parts [{PartNumber, ETag}]; StorageNotFound when the upload is gone (completed or
        aborted), PartsRejected when the store cannot assemble these parts."""
        with _translated_errors():
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]},
            )

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abort a multipart upload and free its parts; an upload that is already gone is not an error."""
        try:
            with _translated_errors():
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except StorageNotFound:
            pass

    def multipart_uploads(self, prefix: str = "") -> list[dict]:
        """Multipart uploads in progress under prefix: [{Key, UploadId, Initiated}]."""
        out: list[dict] = []
        try:
            for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix):
                out.extend(
                    {"Key": u["Key"], "UploadId": u["UploadId"], "Initiated": u.get("Initiated")}
                    for u in page.get("Uploads", [])
                )
        except ClientError as exc:
            # rclone 1.75 answers NoSuchUpload until the bucket's first multipart upload: that means none.
            if _code(exc) != "NoSuchUpload":
                raise
        return out

    def _allow_unsigned_streams(self) -> None:
        if getattr(self, "_unsigned_hook", False):
            return
        self.client.meta.events.register("before-sign.s3.UploadPart", _sign_streams_unsigned)
        self._unsigned_hook = True


class _UnsignedStream:
    """A read-only body of known length over a stream that cannot seek (a WSGI input).

    The source is read in 1 MiB pieces (a WSGI server reads its socket best in large pieces) and handed out in the
    sizes the HTTP client asks for, so at most one piece is held. Reads never go past `length`; a source that ends
    early raises, so the store sees a broken request rather than a short part.
    """

    PIECE = 1024 * 1024

    def __init__(self, raw: IO[bytes], length: int) -> None:
        self.raw = raw
        self.left = length
        self._piece = memoryview(b"")
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        if self._pos >= len(self._piece):
            if self.left <= 0:
                return b""
            data = self.raw.read(min(self.PIECE, self.left))
            if not data:
                raise OSError(f"the upload ended {self.left} bytes early")
            self.left -= len(data)
            self._piece, self._pos = memoryview(data), 0
        end = len(self._piece) if n is None or n < 0 else min(len(self._piece), self._pos + n)
        out = self._piece[self._pos : end].tobytes()
        self._pos = end
        return out


def _sign_streams_unsigned(request, **_kwargs) -> None:
    """botocore hook: sign an _UnsignedStream body as UNSIGNED-PAYLOAD instead of hashing (reading) it first."""
    if isinstance(request.body, _UnsignedStream):
        config = request.context.get("client_config")
        if config is not None:
            s3 = dict(getattr(config, "s3", None) or {}, payload_signing_enabled=False)
            request.context["client_config"] = config.merge(botocore.config.Config(s3=s3))


class _HashingReader:
    """File-like wrapper that hashes and counts what is read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.size = 0
        self._hash = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.size += len(data)
        self._hash.update(data)
        return data

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def original_key(clip_id: int, ext: str) -> str:
    """Deterministic key of a clip's original upload (no filename: it may identify the unit)."""
    return f"originals/{clip_id}/original{ext}"


def derived_key(clip_id: int, name: str) -> str:
    """Deterministic key of a derived file (rendition, poster, storyboard)."""
    return f"derived/{clip_id}/{name}"
