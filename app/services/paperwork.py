"""Paperwork: certificates (one per award recipient) and the minutes of the judging, from the frozen publication.

Nothing here reads live entries, scores or awards: what was published is what the paper says.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.db import DbSession
from app.models import AwardKind, Certificate, Contest, Publication, Round, User
from app.services import PortalError
from app.services.audit import record_event
from app.services.results import latest_publication

NOT_PUBLISHED = _l(
    "The results of this contest are not published yet. Certificates and minutes are made from the published "
    "results only: publish them first."
)
# Snapshots published before authors were one per line hold "A, B" or "A; B".
_OLD_SEPARATORS = re.compile(r"\s*[,;\n]+\s*")


def nfc(text: str | None) -> str:
    """Text as printed on paper: NFC (composed diacritics, which the fonts' glyph tables expect), single spaces."""
    return unicodedata.normalize("NFC", " ".join((text or "").split()))


@dataclass(frozen=True)
class Recipient:
    """Who one certificate is for: the unit (group prize) or one author (individual prize)."""

    award: str
    kind: AwardKind
    recipient: str
    unit: str
    entry_id: int
    entry_title: str


def recipients_of(snapshot: dict) -> list[Recipient]:
    """Every certificate a publication snapshot calls for, in award order then rank order."""
    out = []
    for award in snapshot.get("awards", []):
        kind = AwardKind(award.get("kind") or AwardKind.GROUP)
        for winner in award.get("winners", []):
            unit = nfc(winner.get("unit"))
            if kind == AwardKind.INDIVIDUAL:
                names = winner.get("author_names")
                if names is None:
                    names = _OLD_SEPARATORS.split(winner.get("authors") or "")
                names = [nfc(n) for n in names if nfc(n)] or [unit]  # no author named: the unit receives it
            else:
                names = [unit]
            for name in dict.fromkeys(names):
                out.append(
                    Recipient(
                        award=nfc(award["name"]),
                        kind=kind,
                        recipient=name,
                        unit=unit,
                        entry_id=int(winner["entry_id"]),
                        entry_title=nfc(winner.get("title")),
                    )
                )
    return out


def published(session: DbSession, contest: Contest) -> Publication:
    """The latest publication, or the clear refusal that paperwork needs one."""
    pub = latest_publication(session, contest)
    if pub is None:
        raise PortalError(NOT_PUBLISHED)
    return pub


def issue_certificates(session: DbSession, *, actor: User | None, contest: Contest) -> list[Certificate]:
    """The certificates of the latest publication, creating the missing ones (each with a new unguessable code).

    Idempotent: the same recipient of the same publication keeps its code, so printed QR codes stay valid."""
    pub = published(session, contest)
    existing = {
        (c.entry_ref, c.recipient): c
        for c in session.scalars(select(Certificate).where(Certificate.publication_id == pub.id))
    }
    made = []
    certificates = []
    for position, r in enumerate(recipients_of(pub.snapshot)):
        cert = existing.get((r.entry_id, r.recipient))
        if cert is None:
            cert = Certificate(
                code=secrets.token_urlsafe(16),  # 128 bits: unguessable, short enough for a QR code
                contest_id=contest.id,
                publication_id=pub.id,
                entry_ref=r.entry_id,
                award_name=r.award[:200],
                award_kind=r.kind,
                recipient=r.recipient[:300],
                unit_name=r.unit[:200],
                entry_title=r.entry_title[:300],
                position=position,
            )
            session.add(cert)
            made.append(cert)
        certificates.append(cert)
    if made:
        record_event(
            session,
            actor=actor,
            action="certificates.issue",
            obj=pub,
            contest_id=contest.id,
            after={"issued": len(made), "total": len(certificates)},
        )
    return certificates


def certificate_by_code(session: DbSession, code: str) -> Certificate | None:
    """The certificate a verification link names (None for an unknown or malformed code)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,40}", code or ""):
        return None
    return session.scalar(select(Certificate).where(Certificate.code == code))


def is_current(session: DbSession, cert: Certificate) -> bool:
    """False when the contest was published again after this certificate's publication."""
    latest = latest_publication(session, cert.contest)
    return latest is not None and latest.id == cert.publication_id


def paper_date(contest: Contest, pub: Publication) -> date:
    """The date printed on the paperwork: the contest's setting, else the publication day in the contest's zone."""
    if contest.paper_date is not None:
        return contest.paper_date
    return pub.published_at.astimezone(ZoneInfo(contest.timezone or "Asia/Ho_Chi_Minh")).date()


def vietnamese_date_line(place: str, day: date) -> str:
    """The administrative place-and-date line: "Huế, ngày 15 tháng 01 năm 2027" (no place: "Ngày 15 …").

    As Decree 30/2020/NĐ-CP writes dates: a leading zero for days below 10 and for months 1 and 2 only
    ("ngày 05 tháng 3")."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    when = f"ngày {day.day:02d} tháng {month} năm {day.year}"
    place = nfc(place)
    return f"{place}, {when}" if place else when[0].upper() + when[1:]


@dataclass(frozen=True)
class Minutes:
    """What the minutes (biên bản tổng hợp kết quả chấm) print, all taken from the publication snapshot."""

    contest_title: str
    rounds: list[str]
    method: str
    trim: int
    tie_breaks: list[str]
    judges: list[str]
    panel_head: str
    ranking: list[dict]
    awards: list[dict]
    published_on: date
    date_line: str


def minutes_of(session: DbSession, contest: Contest) -> Minutes:
    """The minutes' content from the latest publication (snapshots older than the panel list fall back to the
    round's panel as it is now)."""
    pub = published(session, contest)
    snap = pub.snapshot
    judges = snap.get("judges")
    if judges is None:
        rnd = session.scalar(select(Round).where(Round.contest_id == contest.id, Round.name == snap.get("round")))
        judges = sorted(m.judge.name for m in rnd.panel) if rnd is not None else []
    rounds = [
        r.name for r in session.scalars(select(Round).where(Round.contest_id == contest.id).order_by(Round.position))
    ]
    if snap.get("round") and snap["round"] not in rounds:
        rounds.append(snap["round"])
    day = paper_date(contest, pub)
    return Minutes(
        contest_title=nfc(snap.get("title") or contest.title),
        rounds=[nfc(r) for r in rounds],
        method=snap.get("method") or "mean",
        trim=int(snap.get("trim") or 1),
        tie_breaks=list(snap.get("tie_breaks") or []),
        judges=[nfc(j) for j in judges],
        panel_head=nfc(contest.panel_head_name),
        ranking=[{**row, "title": nfc(row.get("title")), "unit": nfc(row.get("unit"))} for row in snap["ranking"]],
        awards=snap.get("awards", []),
        published_on=pub.published_at.astimezone(ZoneInfo(contest.timezone or "Asia/Ho_Chi_Minh")).date(),
        date_line=vietnamese_date_line(contest.paper_place, day),
    )
