"""Media delivery answers byte ranges the way players need: 206 with Content-Range for one satisfiable range, 416 for
one past the end, the whole file (200) otherwise."""

from __future__ import annotations

import pytest

from app.models import Role

BODY = bytes(range(256)) * 4  # 1024 bytes, every offset recognisable


@pytest.fixture
def media_url(make, browser):
    clip = make.rendered_clip(BODY)
    browser.login(make.user(Role.ORGANISER).email)
    return f"/media/clips/{clip.id}/play.mp4"


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=1000-", 1000, 1024),
        ("bytes=1000-5000", 1000, 1024),
        ("bytes=-24", 1000, 1024),
        ("bytes=-5000", 0, 1024),  # a suffix longer than the file is the whole file
        ("bytes=1023-1023", 1023, 1024),
    ],
)
def test_one_satisfiable_range_is_a_206(browser, media_url, header, start, stop):
    resp = browser.get(media_url, headers={"Range": header})
    assert resp.status_code == 206
    assert resp.headers["Content-Range"] == f"bytes {start}-{stop - 1}/1024"
    assert resp.headers["Content-Length"] == str(stop - start) and resp.data == BODY[start:stop]


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000"])
def test_a_range_past_the_end_is_a_416(browser, media_url, header):
    resp = browser.get(media_url, headers={"Range": header})
    assert resp.status_code == 416 and resp.headers["Content-Range"] == "bytes */1024" and resp.data == b""


@pytest.mark.parametrize("header", [None, "bytes=0-9,20-29", "items=0-9", "bytes=9-2", "bytes=x-y"])
def test_no_several_or_malformed_ranges_get_the_whole_file(browser, media_url, header):
    resp = browser.get(media_url, headers={"Range": header} if header else {})
    assert resp.status_code == 200 and "Content-Range" not in resp.headers
    assert resp.headers["Accept-Ranges"] == "bytes" and resp.data == BODY


def test_head_answers_the_headers_only(browser, media_url):
    resp = browser.client.head(media_url, headers={"Range": "bytes=10-19"})
    assert resp.status_code == 206 and resp.headers["Content-Range"] == "bytes 10-19/1024"
    assert resp.headers["Content-Length"] == "10" and resp.data == b""
