"""The storage layer speaks for the store: a missing object or upload is StorageNotFound, parts it cannot assemble are
PartsRejected, whatever the store's dialect (real rclone serve s3; no mocks)."""

from __future__ import annotations

import io

import pytest

from app.storage import PartsRejected, Storage, StorageNotFound

MIB = 1024 * 1024


@pytest.fixture
def store(app):
    storage = Storage.from_config(app.config)
    yield storage
    for upload in storage.multipart_uploads("tests/"):
        storage.abort_multipart(upload["Key"], upload["UploadId"])


def test_a_missing_object_is_storage_not_found(store, tmp_path):
    assert store.size("tests/missing.mp4") is None and not store.exists("tests/missing.mp4")
    with pytest.raises(StorageNotFound):
        list(store.open_range("tests/missing.mp4", 0, 10))
    with pytest.raises(StorageNotFound):
        store.download_file("tests/missing.mp4", str(tmp_path / "x"))
    store.put_stream("tests/present.bin", io.BytesIO(b"0123456789"))
    assert store.size("tests/present.bin") == 10
    assert b"".join(store.open_range("tests/present.bin", 2, 4)) == b"234"


def test_a_finished_or_aborted_upload_is_storage_not_found(store):
    key = "tests/upload.bin"
    upload_id = store.create_multipart(key)
    etag = store.upload_part_stream(key, upload_id, 1, io.BytesIO(b"x" * 100), length=100)
    assert [part["PartNumber"] for part in store.list_parts(key, upload_id)] == [1]
    store.complete_multipart(key, upload_id, [{"PartNumber": 1, "ETag": etag}])
    assert store.size(key) == 100
    with pytest.raises(StorageNotFound):
        store.list_parts(key, upload_id)
    with pytest.raises(StorageNotFound):
        store.complete_multipart(key, upload_id, [{"PartNumber": 1, "ETag": etag}])

    aborted = store.create_multipart("tests/aborted.bin")
    store.abort_multipart("tests/aborted.bin", aborted)
    store.abort_multipart("tests/aborted.bin", aborted)  # already gone: not an error
    with pytest.raises(StorageNotFound):
        store.list_parts("tests/aborted.bin", aborted)
    with pytest.raises(StorageNotFound):
        store.upload_part_stream("tests/aborted.bin", aborted, 1, io.BytesIO(b"y" * 10), length=10)


def test_parts_the_store_cannot_assemble_are_parts_rejected(store):
    key = "tests/parts.bin"
    upload_id = store.create_multipart(key)
    etag = store.upload_part_stream(key, upload_id, 1, io.BytesIO(b"z" * 10), length=10)
    with pytest.raises(PartsRejected):  # part 2 was never sent
        store.complete_multipart(key, upload_id, [{"PartNumber": 1, "ETag": etag}, {"PartNumber": 2, "ETag": etag}])
