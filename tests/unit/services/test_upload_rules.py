"""The pure rules of resumable uploads: how a file is cut into parts, and the signed part tokens of proxy mode.

No services: these run in milliseconds."""

from __future__ import annotations

import pytest

from app.services.uploads import (
    MAX_PARTS,
    MIB,
    MIN_PART_BYTES,
    PartGrant,
    UploadForbidden,
    part_count,
    part_length,
    part_size_for,
    read_part_token,
    sign_part_token,
)


@pytest.mark.parametrize(
    ("size", "preferred", "expected"),
    [
        (1, 8 * MIB, 8 * MIB),  # a tiny file still uses the preferred part size (one short part)
        (60 * MIB, 8 * MIB, 8 * MIB),
        (60 * MIB, 1 * MIB, MIN_PART_BYTES),  # S3 refuses parts under 5 MiB (except the last)
        (60 * MIB, 0, MIN_PART_BYTES),
        (8 * MIB * MAX_PARTS, 8 * MIB, 8 * MIB),  # exactly 10,000 parts: no growth
        (8 * MIB * MAX_PARTS + 1, 8 * MIB, 9 * MIB),  # one byte more: grown to the next whole MiB
        (200 * 1024 * MIB, 8 * MIB, 21 * MIB),  # 200 GiB: ceil(20.48) MiB
    ],
)
def test_part_size_for(size, preferred, expected):
    assert part_size_for(size, preferred) == expected


@pytest.mark.parametrize("size", [1, 5 * MIB, 5 * MIB + 1, 123_456_789, 80 * 1024 * MIB + 7, 500 * 1024 * MIB])
def test_parts_never_exceed_the_s3_limit_and_grow_in_whole_mib(size):
    part = part_size_for(size, 8 * MIB)
    assert part >= MIN_PART_BYTES and part % MIB == 0
    assert part_count(size, part) <= MAX_PARTS


def test_preferred_size_is_taken_as_an_integer():
    assert part_size_for(10 * MIB, float(6 * MIB)) == 6 * MIB
    assert isinstance(part_size_for(10 * MIB, float(6 * MIB)), int)


@pytest.mark.parametrize(
    ("size", "part", "count"),
    [(1, 5 * MIB, 1), (5 * MIB, 5 * MIB, 1), (5 * MIB + 1, 5 * MIB, 2), (2 * 5 * MIB + 123_457, 5 * MIB, 3)],
)
def test_part_count(size, part, count):
    assert part_count(size, part) == count


def test_part_count_is_at_least_one_even_for_an_empty_file():
    assert part_count(0, 5 * MIB) == 1


@pytest.mark.parametrize("size", [1, 5 * MIB - 1, 5 * MIB, 5 * MIB + 1, 3 * 5 * MIB + 99])
def test_part_lengths_cover_the_file_exactly(size):
    part = 5 * MIB
    lengths = [part_length(size, part, n) for n in range(1, part_count(size, part) + 1)]
    assert sum(lengths) == size
    assert all(length == part for length in lengths[:-1])
    assert 0 < lengths[-1] <= part


GRANT = PartGrant(clip_id=7, key="originals/7/original.mp4", upload_id="up-1", part_number=3, length=5 * MIB)


def test_a_part_token_carries_its_grant():
    token = sign_part_token("secret", GRANT)
    assert read_part_token("secret", token, max_age=60) == GRANT


def test_a_part_token_from_another_secret_is_refused():
    token = sign_part_token("secret", GRANT)
    with pytest.raises(UploadForbidden, match="not valid"):
        read_part_token("another-secret", token, max_age=60)


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), lambda t: "x" + t, str.upper]
)
def test_a_tampered_part_token_is_refused(mangle):
    token = sign_part_token("secret", GRANT)
    with pytest.raises(UploadForbidden, match="not valid"):
        read_part_token("secret", mangle(token), max_age=60)


def test_an_expired_part_token_is_refused():
    """max_age=-1: a token signed this very second is already too old, with no clock to wait for."""
    token = sign_part_token("secret", GRANT)
    with pytest.raises(UploadForbidden, match="expired"):
        read_part_token("secret", token, max_age=-1)


def test_a_token_of_another_shape_is_refused():
    from itsdangerous import URLSafeTimedSerializer

    from app.services.uploads import TOKEN_SALT

    forged = URLSafeTimedSerializer("secret", salt=TOKEN_SALT).dumps(["not", "a", "grant"])
    with pytest.raises(UploadForbidden, match="not valid"):
        read_part_token("secret", forged, max_age=60)
