"""The resumable upload protocol, spoken by a Python client to a real gunicorn portal on the real S3 server, in both
UPLOAD_MODEs: parts, an interrupted part, resume by listing parts, completion (byte-exact), and every refusal leaving
nothing behind (no clip row, no object, no multipart upload)."""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Clip, ClipStatus, Entry, EntryStatus, Role, utcnow
from devtools.services import start_web, stop_processes
from tests.conftest import ROOT
from tests.factories import PASSWORD

MIB = 1024 * 1024
PART = 5 * MIB  # the smallest part S3 allows, to keep the files small
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VI_CLOSED = "Đã quá hạn nộp: không thể tạo, sửa hay nộp tác phẩm nữa."
# Under xdist (--dist loadgroup) the whole module runs on one worker, which starts each `live` portal once.
pytestmark = pytest.mark.xdist_group("uploads-live-portal")


@pytest.fixture(scope="session")
def live_portals(services, tmp_path_factory):
    """gunicorn portals (as deployed) by upload mode, with 5 MiB parts: each started when first needed and kept for the
    run, in whatever order (xdist) the tests come."""
    started: dict[str, tuple] = {}

    def portal(mode: str) -> str:
        if mode not in started:
            log = open(tmp_path_factory.mktemp(f"uploads-{mode}") / "web.log", "wb")  # noqa: SIM115 - closed below
            env = {
                **os.environ,
                "UPLOAD_MODE": mode,
                "UPLOAD_PART_BYTES": str(PART),
                "MAX_UPLOAD_BYTES": str(64 * MIB),
                "PYTHONUNBUFFERED": "1",
            }
            try:
                started[mode] = (*start_web(env, log, cwd=ROOT), log)
            except BaseException:
                log.close()
                raise
        return started[mode][1]

    yield portal
    stop_processes([web for web, _base, _log in started.values()], timeout=15)
    for _web, _base, log in started.values():
        log.close()


@pytest.fixture(params=["direct", "proxy"])
def live(request, live_portals):
    """A gunicorn portal in one upload mode; (base URL, mode)."""
    return live_portals(request.param), request.param


class PortalClient:
    """What the browser does, with urllib: a session cookie, the CSRF token, JSON control requests, part PUTs."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = None

    def _open(self, req):
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def login(self, email: str) -> None:
        _, _, html = self._open(urllib.request.Request(self.base + "/login"))
        token = CSRF_RE.search(html.decode()).group(1)
        data = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token}).encode()
        self._open(urllib.request.Request(self.base + "/login", data=data))
        _, _, html = self._open(urllib.request.Request(self.base + "/"))
        self.csrf = CSRF_RE.search(html.decode()).group(1)

    def call(self, method: str, path: str, body: dict | None = None, *, csrf: bool = True) -> tuple[int, dict]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if csrf:
            headers["X-CSRFToken"] = self.csrf
        req = urllib.request.Request(
            self.base + path,
            method=method,
            headers=headers,
            data=json.dumps(body).encode() if body is not None else None,
        )
        status, _, raw = self._open(req)
        return status, json.loads(raw or b"null")

    def create(self, entry_id: int, size: int, name: str = "clip.mp4", type_: str = "video/mp4", **kw):
        return self.call("POST", f"/uploads/entries/{entry_id}", {"filename": name, "size": size, "type": type_}, **kw)

    def start(self, entry_id: int, data: bytes, **kw) -> dict:
        """Begin an upload of data for the entry and send its first part; the upload's document."""
        status, doc = self.create(entry_id, len(data), **kw)
        assert status == 201, doc
        self.send_part(doc, 1, data)
        return doc

    def sign(self, doc: dict, number, **kw) -> tuple[int, dict]:
        return self.call("POST", f"{doc['urls']['sign']}{number}", {"uploadId": doc["uploadId"]}, **kw)

    def parts(self, doc: dict) -> list[int]:
        status, listing = self.call("GET", f"{doc['urls']['parts']}?uploadId={doc['uploadId']}")
        assert status == 200, listing
        return [p["PartNumber"] for p in listing["parts"]]

    def put(self, url: str, data: bytes) -> tuple[int, dict, bytes]:
        """PUT a part's bytes to its URL (presigned S3, or the portal in proxy mode), without the session."""
        url = urllib.parse.urljoin(self.base, url)
        req = urllib.request.Request(url, data=data, method="PUT")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()
        except (urllib.error.URLError, ConnectionError) as exc:
            # The store may refuse a request by its headers and close the connection before reading the body.
            return 0, {}, str(exc).encode()

    def put_interrupted(self, url: str, data: bytes, sent: int) -> None:
        """Announce the whole part, send only its first `sent` bytes, then drop the connection."""
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(self.base, url))
        with socket.create_connection((parts.hostname, parts.port)) as sock:
            sock.sendall(
                f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Content-Length: {len(data)}\r\n\r\n".encode()
            )
            sock.sendall(data[:sent])
            time.sleep(0.3)

    def send_part(self, doc: dict, number: int, data: bytes) -> str:
        status, grant = self.sign(doc, number)
        assert status == 200, grant
        status, headers, body = self.put(grant["url"], data[(number - 1) * doc["partSize"] : number * doc["partSize"]])
        assert status == 200, body[:300]
        return headers["ETag"]


def _signed_in(base: str, user) -> PortalClient:
    """A client of the portal at base, signed in as user."""
    client = PortalClient(base)
    client.login(user.email)
    return client


def _leftovers(storage) -> tuple[set, set]:
    return set(storage.keys("originals/")), {u["UploadId"] for u in storage.multipart_uploads()}


@pytest.fixture
def store(app):
    from app.connections import storage

    with app.app_context():
        yield storage()


@pytest.fixture
def world(make):
    """A unit with a member and a draft entry, another unit's member and entry, and an open contest."""
    unit, other = make.unit(), make.unit()
    contest = make.contest(max_size_bytes=40 * MIB)
    return {
        "member": make.user(Role.UNIT, unit),
        "stranger": make.user(Role.UNIT, other),
        "contest": contest,
        "entry": make.entry(contest, unit, status=EntryStatus.DRAFT, clip_status=None),
        "other_entry": make.entry(contest, other, status=EntryStatus.DRAFT, clip_status=None),
    }


def _queued(app) -> int:
    from app.queue import media_queue

    return media_queue(app.config["REDIS_URL"], app.config["RQ_QUEUE"]).count


def test_upload_in_parts_survives_an_interrupted_part_and_resumes(live, world, session, store, app):
    base, mode = live
    data = os.urandom(2 * PART + 123_457)
    before = _leftovers(store)
    client = _signed_in(base, world["member"])

    status, doc = client.create(world["entry"].id, len(data), name="Phường Bến Nghé.mp4")
    assert status == 201, doc
    assert (doc["partSize"], doc["partCount"], doc["size"]) == (PART, 3, len(data))
    client.send_part(doc, 1, data)

    # The connection drops half-way through part 2: the store keeps part 1 only.
    status, grant = client.sign(doc, 2)
    client.put_interrupted(grant["url"], data[PART : 2 * PART], PART // 2)
    time.sleep(0.3)
    assert client.parts(doc) == [1]

    # Later (another page, the same browser): list what arrived, send only the rest.
    resumed = _signed_in(base, world["member"])
    missing = [n for n in range(1, doc["partCount"] + 1) if n not in resumed.parts(doc)]
    assert missing == [2, 3]
    for number in missing:
        resumed.send_part(doc, number, data)
    assert resumed.parts(doc) == [1, 2, 3]

    status, done = resumed.call("POST", doc["urls"]["complete"], {"uploadId": doc["uploadId"]})
    assert status == 200 and done["completed"] is True and done["status"] == "queued", done
    assert hashlib.sha256(b"".join(store.open_range(doc["key"]))).hexdigest() == hashlib.sha256(data).hexdigest()
    session.expire_all()
    clip = session.get(Clip, doc["clipId"])
    entry = session.get(Entry, world["entry"].id)
    assert entry.clip_id == clip.id and clip.size_bytes == len(data) and clip.upload_id is None
    assert clip.filename == "Phường Bến Nghé.mp4" and clip.status == ClipStatus.QUEUED

    # Completing twice (a retry after a lost answer) does not queue twice.
    status, again = resumed.call("POST", doc["urls"]["complete"], {"uploadId": doc["uploadId"]})
    assert status == 200 and again["completed"] is False
    assert _queued(app) == 1
    keys, uploads = _leftovers(store)
    assert keys == before[0] | {doc["key"]} and uploads == before[1]


def test_a_new_clip_replaces_the_old_one_only_when_complete(live, make, session, store):
    base, _mode = live
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    entry = make.entry(make.contest(), unit, status=EntryStatus.SUBMITTED, clip_status=ClipStatus.READY)
    old_clip_id = entry.clip_id
    client = _signed_in(base, member)
    data = os.urandom(PART + 10)

    doc = client.start(entry.id, data, name="new.mov", type_="video/quicktime")
    session.expire_all()
    assert session.get(Entry, entry.id).clip_id == old_clip_id
    status, page = client.call("GET", f"/unit/entries/{entry.id}/status.json")
    assert page["status"] == "ready"
    # Choosing another file replaces the unfinished upload; the entry still has at most one in progress.
    status, second = client.create(entry.id, len(data), name="new.mov", type_="video/quicktime")
    assert status == 201 and second["uploadId"] != doc["uploadId"]
    assert doc["uploadId"] not in {u["UploadId"] for u in store.multipart_uploads()}
    assert client.call("GET", f"{doc['urls']['parts']}?uploadId={doc['uploadId']}")[0] in (404, 409)
    for number in (1, 2):
        client.send_part(second, number, data)
    status, done = client.call("POST", second["urls"]["complete"], {"uploadId": second["uploadId"]})
    assert status == 200 and done["completed"]
    session.expire_all()
    assert session.get(Entry, entry.id).clip_id == second["clipId"]
    assert session.get(Clip, old_clip_id) is not None  # superseded, kept


REFUSALS = {
    "another unit's entry": (lambda w: ("member", w["other_entry"].id, 10 * MIB, "a.mp4", "video/mp4"), 404),
    "larger than the contest allows": (lambda w: ("member", w["entry"].id, 41 * MIB, "a.mp4", "video/mp4"), 400),
    "empty": (lambda w: ("member", w["entry"].id, 0, "a.mp4", "video/mp4"), 400),
    "not a video name": (lambda w: ("member", w["entry"].id, MIB, "report.pdf", "application/pdf"), 400),
    "not a video type": (lambda w: ("member", w["entry"].id, MIB, "a.mp4", "image/png"), 400),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_uploads_leave_nothing(live, world, session, store, case):
    base, _mode = live
    build, expected = REFUSALS[case]
    who, entry_id, size, name, type_ = build(world)
    before = _leftovers(store)
    client = _signed_in(base, world[who])
    status, doc = client.create(entry_id, size, name=name, type_=type_)
    assert status == expected and isinstance(doc["error"], str) and doc["error"], doc
    _assert_nothing_left(session, store, before)


def _assert_nothing_left(session, store, before) -> None:
    session.expire_all()
    assert session.scalars(select(Clip)).all() == []
    assert _leftovers(store) == before


def test_portal_limit_deadline_and_roles_are_refused_in_the_users_language(live, make, session, store):
    base, _mode = live
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    closed = make.contest(closed=True)
    entry = make.entry(closed, unit, status=EntryStatus.DRAFT, clip_status=None)
    open_entry = make.entry(make.contest(), unit, status=EntryStatus.DRAFT, clip_status=None)
    before = _leftovers(store)
    client = _signed_in(base, member)

    status, doc = client.create(entry.id, MIB)
    assert status == 403 and doc["error"] == VI_CLOSED, doc
    status, doc = client.create(open_entry.id, 65 * MIB)  # MAX_UPLOAD_BYTES is 64 MiB on this portal
    assert status == 400 and "64" in doc["error"], doc
    client._open(urllib.request.Request(base + "/?lang=en"))
    status, doc = client.create(entry.id, MIB)
    assert (
        status == 403
        and doc["error"] == "The deadline has passed: entries can no longer be created, changed or submitted."
    ), doc

    judge = _signed_in(base, make.user(Role.JUDGE))
    status, doc = judge.create(open_entry.id, MIB)
    assert status == 403 and doc["error"]
    anonymous = PortalClient(base)
    anonymous.csrf = "x"
    assert anonymous.create(open_entry.id, MIB)[0] in (400, 401)
    _assert_nothing_left(session, store, before)


def test_control_requests_need_the_csrf_token(live, world, session, store):
    base, _mode = live
    before = _leftovers(store)
    client = _signed_in(base, world["member"])
    status, doc = client.create(world["entry"].id, PART, csrf=False)
    assert status == 400 and doc["error"], doc
    _assert_nothing_left(session, store, before)

    status, doc = client.create(world["entry"].id, PART)
    assert status == 201
    for method, path, body in (
        ("POST", f"{doc['urls']['sign']}1", {"uploadId": doc["uploadId"]}),
        ("POST", doc["urls"]["complete"], {"uploadId": doc["uploadId"]}),
        ("DELETE", f"{doc['urls']['abort']}?uploadId={doc['uploadId']}", None),
    ):
        status, answer = client.call(method, path, body, csrf=False)
        assert status == 400 and answer["error"], (method, path, answer)
    status, answer = client.call("DELETE", f"{doc['urls']['abort']}?uploadId={doc['uploadId']}")
    assert status == 200 and answer == {"aborted": True}
    _assert_nothing_left(session, store, before)


def test_forged_part_numbers_and_tampered_urls_are_refused(live, world, session, store):
    base, mode = live
    data = os.urandom(2 * PART + 99)
    before = _leftovers(store)
    client = _signed_in(base, world["member"])
    status, doc = client.create(world["entry"].id, len(data))
    assert status == 201

    for forged in ("0", "4", "10001", "-1", "1a", "01", "99999999999999999999"):
        status, answer = client.sign(doc, forged)
        assert status == 400 and answer["error"], (forged, answer)
    status, answer = client.call("POST", f"{doc['urls']['sign']}1", {"uploadId": "someone-elses"})
    assert status == 409 and answer["error"]

    # Another unit's member cannot touch this upload at all.
    stranger = _signed_in(base, world["stranger"])
    assert stranger.sign(doc, 1)[0] == 404
    assert stranger.call("GET", f"{doc['urls']['parts']}?uploadId={doc['uploadId']}")[0] == 404
    assert stranger.call("POST", doc["urls"]["complete"], {"uploadId": doc["uploadId"]})[0] == 404
    assert stranger.call("DELETE", f"{doc['urls']['abort']}?uploadId={doc['uploadId']}")[0] == 404

    status, grant = client.sign(doc, 1)
    url, part1 = grant["url"], data[:PART]
    if mode == "direct":
        assert url.startswith("http") and "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url
        tampered = [url.replace("partNumber=1", "partNumber=2"), url[:-4] + ("0000" if url[-4:] != "0000" else "1111")]
    else:
        assert url.startswith("/uploads/part/")
        token = url.rsplit("/", 1)[1]
        flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
        tampered = [f"/uploads/part/{flipped}", "/uploads/part/not-a-token"]
    for bad in tampered:
        status, _headers, body = client.put(bad, part1)
        assert status in ((0, 400, 403) if mode == "direct" else (403,)), (bad, status, body[:200])
        if mode == "proxy":
            assert json.loads(body)["error"]
    # A part URL takes exactly its part's length.
    for wrong in (part1 + b"x", part1[:-1]):
        status, _headers, body = client.put(url, wrong)
        assert status in ((0, 400, 403) if mode == "direct" else (400,)), (len(wrong), status, body[:200])
    assert client.parts(doc) == []

    # Completing before every part arrived is refused; the upload stays resumable.
    client.send_part(doc, 1, data)
    status, answer = client.call("POST", doc["urls"]["complete"], {"uploadId": doc["uploadId"]})
    assert status == 400 and answer["error"]
    assert client.parts(doc) == [1]
    status, answer = client.call("DELETE", f"{doc['urls']['abort']}?uploadId={doc['uploadId']}")
    assert status == 200
    _assert_nothing_left(session, store, before)


def test_parts_of_the_wrong_size_are_refused_at_completion(live, world, session, store):
    """Should a part of another length reach the store anyway, the upload is removed instead of completed."""
    base, _mode = live
    before = _leftovers(store)
    client = _signed_in(base, world["member"])
    doc = client.start(world["entry"].id, os.urandom(PART + 10))
    store.client.upload_part(
        Bucket=store.bucket, Key=doc["key"], UploadId=doc["uploadId"], PartNumber=2, Body=b"twelve bytes"
    )  # 12 bytes where 10 were announced
    status, answer = client.call("POST", doc["urls"]["complete"], {"uploadId": doc["uploadId"]})
    assert status == 409 and answer["error"], answer
    _assert_nothing_left(session, store, before)


def test_part_urls_expire(app, store):
    """Presigned URLs (checked by the store) and proxy tokens (checked by the portal) stop working."""
    from app.services.uploads import PartGrant, UploadForbidden, read_part_token, sign_part_token

    key = "originals/expiry-test/original.mp4"
    upload_id = store.create_multipart(key)
    try:
        url = store.presign_part(key, upload_id, 1, length=10, expires_in=1)
        grant = PartGrant(clip_id=1, key=key, upload_id=upload_id, part_number=1, length=10)
        token = sign_part_token("secret", grant)
        assert read_part_token("secret", token, max_age=60) == grant
        time.sleep(2.1)
        req = urllib.request.Request(url, data=b"0123456789", method="PUT")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=10)
        assert refused.value.code in (400, 403)
        with pytest.raises(UploadForbidden):
            read_part_token("secret", token, max_age=1)
        with pytest.raises(UploadForbidden):
            read_part_token("another-secret", token, max_age=60)
        assert store.list_parts(key, upload_id) == []
    finally:
        store.abort_multipart(key, upload_id)


def test_the_deadline_passing_mid_upload_cancels_it(live, world, session, store):
    base, _mode = live
    data = os.urandom(PART + 1)
    before = _leftovers(store)
    client = _signed_in(base, world["member"])
    doc = client.start(world["entry"].id, data)
    contest = world["contest"]
    contest.closes_at = utcnow() - timedelta(seconds=1)
    contest.opens_at = utcnow() - timedelta(days=1)
    session.commit()
    status, answer = client.sign(doc, 2)
    assert status == 409 and answer["error"], answer
    _assert_nothing_left(session, store, before)


def test_sweeper_aborts_abandoned_uploads(live, world, app, session, store):
    base, _mode = live
    from app.services.uploads import sweep_abandoned_uploads

    data = os.urandom(PART + 1)
    before = _leftovers(store)
    client = _signed_in(base, world["member"])
    old = client.start(world["entry"].id, data)
    clip = session.get(Clip, old["clipId"])
    clip.upload_started_at = utcnow() - timedelta(hours=25)
    session.commit()
    orphan_key = "originals/999999/original.mp4"
    orphan = store.create_multipart(orphan_key)  # a crash after the store answered, before the commit

    result = sweep_abandoned_uploads(session, store, older_than=timedelta(hours=24))
    session.commit()
    assert result == {"clips": [old["clipId"]], "orphans": 0}  # the orphan is young: kept for now
    assert orphan in {u["UploadId"] for u in store.multipart_uploads()}
    later = utcnow() + timedelta(hours=25)
    assert sweep_abandoned_uploads(session, store, older_than=timedelta(hours=24), now=later)["orphans"] == 1
    session.commit()
    _assert_nothing_left(session, store, before)

    # The command line, and each worker's start, run the same sweep.
    status, doc = client.create(world["entry"].id, len(data))
    from media_worker.cli import uploads_group

    out = app.test_cli_runner().invoke(uploads_group, args=["sweep", "--hours", "0"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["clips"] == [doc["clipId"]]
    _assert_nothing_left(session, store, before)

    status, doc = client.create(world["entry"].id, len(data))
    session.expire_all()
    session.get(Clip, doc["clipId"]).upload_started_at = utcnow() - timedelta(days=2)
    session.commit()
    from media_worker.worker import run_worker

    run_worker(app.config, burst=True)
    _assert_nothing_left(session, store, before)


def test_a_unit_has_a_bounded_number_of_uploads_in_progress(app, make, session, store):
    """The service directly: the unit's quota of uploads in progress, one per entry, none for a withdrawn entry."""
    from app.services.uploads import UploadError, UploadForbidden, UploadRules, create_upload, discard_upload

    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    contest = make.contest()
    first, second, third = (make.entry(contest, unit, status=EntryStatus.DRAFT, clip_status=None) for _ in range(3))
    withdrawn = make.entry(contest, unit, status=EntryStatus.WITHDRAWN, clip_status=None)
    rules = UploadRules(max_bytes=64 * MIB, part_bytes=PART, url_expires_s=60, max_pending_per_unit=2)
    before = _leftovers(store)

    def start(entry):
        clip = create_upload(
            session, store, user=member, entry=entry, filename="a.mp4", size=MIB, content_type="video/mp4", rules=rules
        )
        session.commit()
        return clip

    a, b = start(first), start(second)
    with pytest.raises(UploadError) as refused:
        start(third)
    with app.test_request_context("/?lang=en"):
        assert str(refused.value).startswith("Your unit already has 2 uploads in progress.")
    session.rollback()
    again = start(first)  # a new file for the same entry replaces its unfinished upload: no quota needed
    assert session.get(Clip, a.id) is None or session.get(Clip, a.id).upload_id != a.upload_id
    with pytest.raises(UploadForbidden):
        start(withdrawn)
    session.rollback()
    for clip in (again, b):
        discard_upload(session, store, clip=clip)
    session.commit()
    _assert_nothing_left(session, store, before)
