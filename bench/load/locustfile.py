"""The load scenarios' users (locust). Started by bench/load/run.py, which seeds the data and names the classes:

- rush:     UnitUser (log in, dashboard, create entries, upload a small clip through the resumable protocol, poll
            its status every 2 s while the worker processes it);
- judging:  JudgeUser (log in, dashboard, open the next entry, save a draft, submit the sheet);
- results:  OrganiserUser (2, the results board) and VisitorUser (anonymous: contest page, winners page, the first
            MiB of a winning clip as a Range request).

Think time 2–5 s between page views, 2 s between status polls. Environment: LOAD_SEED (seed.py's JSON) and
LOAD_CLIP (the small clip that unit users upload). Request names group URLs by route ([id] for ids).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import re
import time
import zlib

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser

SEED = json.loads(open(os.environ["LOAD_SEED"], encoding="utf-8").read())  # noqa: SIM115 - read once at import
CLIP = open(os.environ["LOAD_CLIP"], "rb").read() if os.environ.get("LOAD_CLIP") else b""  # noqa: SIM115
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ENTRY_RE = re.compile(r"/unit/entries/(\d+)$")
SCORE_RE = re.compile(r"/judge/rounds/\d+/entries/(\d+)$")
CLIP_RE = re.compile(r"/media/clips/(\d+)/play\.mp4")
POLL_SECONDS = 2
MAX_POLLS = 15  # 30 s on the entry page, then the unit member moves on
MAX_LOGIN_ATTEMPTS = 20  # a login answered 503 + Retry-After (every hashing slot busy) is tried again
SIGNED_IN = "time to sign in (first try → in, 503 retries included)"


def _csrf(text: str) -> str:
    found = CSRF_RE.search(text)
    return found.group(1) if found else ""


def _flashes(cookie: str | None) -> str:
    """The flashed messages in Flask's session cookie (signed, not encrypted: readable without the key), to say why a
    form was refused without one more request; "" when there are none or the cookie does not decode."""
    if not cookie:
        return ""
    compressed = cookie.startswith(".")
    payload = cookie.lstrip(".").split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        doc = json.loads(zlib.decompress(raw) if compressed else raw)
    except (ValueError, zlib.error):
        return ""
    flashes = doc.get("_flashes") or []
    # Flask's tagged JSON keeps each (category, message) tuple as {" t": [category, message]}.
    return "; ".join(str(f.get(" t", f)[-1] if isinstance(f, dict) else f) for f in flashes)


class PortalUser(HttpUser):
    """A user who signs in once with one of the seeded accounts."""

    abstract = True
    wait_time = between(2, 5)
    accounts: itertools.cycle = itertools.cycle([""])
    password = SEED["password"]
    csrf = ""

    def on_start(self) -> None:
        self.email = next(self.accounts)
        page = self.client.get("/login", name="GET /login")
        token = _csrf(page.text)
        began = time.monotonic()
        for _attempt in range(MAX_LOGIN_ATTEMPTS):
            with self.client.post(
                "/login",
                data={"email": self.email, "password": self.password, "csrf_token": token},
                name="POST /login",
                allow_redirects=False,
                catch_response=True,
            ) as resp:
                if resp.status_code == 503 and "Retry-After" in resp.headers:
                    # Every hashing slot of the node was taken (LOGIN_HASH_CONCURRENCY): a person reads "try again
                    # in a few seconds" and does. Counted apart, not as an error.
                    resp.request_meta["name"] = "POST /login (busy: 503, retried)"
                    resp.success()
                    token = _csrf(resp.text) or token
                    gevent.sleep(float(resp.headers["Retry-After"]))
                    continue
                if resp.status_code != 302:
                    resp.failure(f"login of {self.email} answered {resp.status_code}")
                    raise StopUser()
                self._signed_in(began)
                break
        else:
            # As many refusals as a patient person would take (~100 s): one error, and this person stops, instead
            # of going on signed out and counting every later page as an error of its own.
            self._signed_in(began, RuntimeError(f"{self.email}: still 503 after {MAX_LOGIN_ATTEMPTS} tries"))
            raise StopUser()
        self.wait()

    def _signed_in(self, began: float, failure: Exception | None = None) -> None:
        """What a person waits from the first login try to the dashboard, retries after 503 included: a row of
        its own, since POST /login's own times count each try apart."""
        events.request.fire(
            request_type="LOGIN",
            name=SIGNED_IN,
            response_time=(time.monotonic() - began) * 1000,
            response_length=0,
            exception=failure,
            context={},
        )

    def page(self, url: str, name: str):
        """A page view (GET); keeps the page's CSRF token for the next form."""
        resp = self.client.get(url, name=name)
        self.csrf = _csrf(resp.text) or self.csrf
        return resp

    def json_call(self, method: str, url: str, name: str, body: dict | None = None) -> dict:
        headers = {"Accept": "application/json", "X-CSRFToken": self.csrf}
        with self.client.request(method, url, json=body, headers=headers, name=name, catch_response=True) as resp:
            if resp.status_code >= 300:
                resp.failure(f"{resp.status_code} {resp.text[:200]}")
                return {}
            return resp.json()


class UnitUser(PortalUser):
    """Deadline rush: a unit member at work on the unit's entries."""

    accounts = itertools.cycle(SEED["rush"]["users"])

    def on_start(self) -> None:
        self.entries: list[int] = []
        super().on_start()

    @task
    def work(self) -> None:
        self.page("/unit/", "GET /unit/ (dashboard)")
        self.wait()
        if len(self.entries) < 3:
            entry_id = self.create_entry()
            if entry_id is not None:
                self.upload(entry_id)
                self.poll(entry_id)
        else:
            entry_id = random.choice(self.entries)
            self.page(f"/unit/entries/{entry_id}", "GET /unit/entries/[id]")
            self.poll(entry_id, polls=3)
        self.wait()

    def create_entry(self) -> int | None:
        slug = SEED["rush"]["slug"]
        self.page(f"/unit/c/{slug}/entries/new", "GET /unit/c/[slug]/entries/new")
        self.wait()
        n = len(self.entries) + 1
        with self.client.post(
            f"/unit/c/{slug}/entries/new",
            data={
                "title": f"Clip {n} của {self.email}",
                "summary": "Tóm tắt sáng kiến.",
                "authors": "Nguyễn Văn A",
                "category_id": "0",
                "csrf_token": self.csrf,
            },
            name="POST /unit/c/[slug]/entries/new",
            allow_redirects=False,
            catch_response=True,
        ) as resp:
            location = resp.headers.get("Location", "")
            found = ENTRY_RE.search(location)
            if resp.status_code != 302 or not found:
                flashed = _flashes(resp.cookies.get("session"))
                resp.failure(
                    f"entry not created: {resp.status_code} to {location or '-'} for {self.email}"
                    + (f" ({flashed})" if flashed else "")
                )
                return None
        entry_id = int(found.group(1))
        self.entries.append(entry_id)
        self.page(f"/unit/entries/{entry_id}", "GET /unit/entries/[id]")
        self.wait()
        return entry_id

    def upload(self, entry_id: int) -> None:
        """The resumable protocol, as the browser's uploader speaks it: create, sign and PUT each part, complete."""
        doc = self.json_call(
            "POST",
            f"/uploads/entries/{entry_id}",
            "POST /uploads/entries/[id] (create)",
            {"filename": "clip.mp4", "size": len(CLIP), "type": "video/mp4"},
        )
        if not doc:
            return
        for number in range(1, doc["partCount"] + 1):
            grant = self.json_call(
                "POST",
                f"{doc['urls']['sign']}{number}",
                "POST /uploads/[id]/parts/[n] (sign)",
                {"uploadId": doc["uploadId"]},
            )
            if not grant:
                return
            start = (number - 1) * doc["partSize"]
            with self.client.put(
                grant["url"], data=CLIP[start : start + grant["size"]], name="PUT part (S3)", catch_response=True
            ) as resp:
                if resp.status_code != 200 or "ETag" not in resp.headers:
                    resp.failure(f"part {number}: {resp.status_code}")
                    return
        self.json_call("POST", doc["urls"]["complete"], "POST /uploads/[id]/complete", {"uploadId": doc["uploadId"]})

    def poll(self, entry_id: int, polls: int = MAX_POLLS) -> None:
        """The entry page's status poller: every 2 s until the clip is final (ready, rejected, failed)."""
        for _ in range(polls):
            gevent.sleep(POLL_SECONDS)
            resp = self.client.get(f"/unit/entries/{entry_id}/status.json", name="GET /unit/entries/[id]/status.json")
            if resp.ok and resp.json().get("final"):
                return


class JudgeUser(PortalUser):
    """Judging: a judge works through the assigned entries, a draft first, then the submitted sheet."""

    accounts = itertools.cycle(SEED["judging"]["users"])

    @task
    def score_one(self) -> None:
        rnd = SEED["judging"]["round_id"]
        self.page("/judge/", "GET /judge/ (dashboard)")
        self.wait()
        resp = self.client.get(f"/judge/rounds/{rnd}/next", name="GET /judge/rounds/[id]/next", allow_redirects=False)
        found = SCORE_RE.search(resp.headers.get("Location", ""))
        if not found:  # every sheet submitted: the judge rereads an entry
            entry_id = random.choice(SEED["judging"]["entry_ids"])
            self.page(f"/judge/rounds/{rnd}/entries/{entry_id}", "GET /judge/rounds/[id]/entries/[id]")
            return
        url = f"/judge/rounds/{rnd}/entries/{found.group(1)}"
        self.page(url, "GET /judge/rounds/[id]/entries/[id]")
        self.wait()
        for action in ("draft", "submit"):
            form = {f"c{c}": str(random.randint(10, 60) / 2) for c in SEED["judging"]["criteria"]}
            form.update(comment="Nhận xét.", action=action, csrf_token=self.csrf)
            with self.client.post(
                url,
                data=form,
                name=f"POST /judge/rounds/[id]/entries/[id] ({action})",
                allow_redirects=False,
                catch_response=True,
            ) as answer:
                if answer.status_code != 302:
                    answer.failure(f"{action}: {answer.status_code}")
                    return
            if action == "draft":
                self.page(url, "GET /judge/rounds/[id]/entries/[id]")
                self.wait()


class OrganiserUser(PortalUser):
    """Results night: an organiser keeps the results board open and reloads it."""

    fixed_count = 2
    accounts = itertools.cycle([(SEED["results"] or {}).get("organiser", "")])  # results night only
    password = SEED["demo_password"]

    @task
    def board(self) -> None:
        self.page(f"/org/rounds/{SEED['results']['round_id']}/results", "GET /org/rounds/[id]/results")


class VisitorUser(HttpUser):
    """Results night: an anonymous visitor reads the contest and winners pages and starts a winning clip."""

    wait_time = between(2, 5)

    @task
    def visit(self) -> None:
        slug = SEED["results"]["slug"]
        self.client.get(f"/c/{slug}", name="GET /c/[slug]")
        self.wait()
        winners = self.client.get(f"/c/{slug}/winners", name="GET /c/[slug]/winners")
        clips = CLIP_RE.findall(winners.text)
        self.wait()
        if clips:
            with self.client.get(
                f"/media/clips/{random.choice(clips)}/play.mp4",
                headers={"Range": "bytes=0-1048575"},
                name="GET /media/clips/[id]/play.mp4 (first MiB)",
                catch_response=True,
            ) as resp:
                if resp.status_code != 206:
                    resp.failure(f"clip start answered {resp.status_code}")
        self.wait()
