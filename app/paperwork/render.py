"""HTML templates to PDF with WeasyPrint: certificates (A4 landscape, one page each) and the minutes.

Fonts come from Debian's DejaVu files through @font-face (full Vietnamese coverage; a missing glyph would be dropped
silently); every text is NFC before it reaches the template; the URL fetcher reads only those font files and data:
URIs, since names and titles come from users.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.models import Certificate, Contest, Publication
from app.services.paperwork import Minutes, nfc, paper_date, vietnamese_date_line

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {
    "regular": FONT_DIR / "DejaVuSerif.ttf",
    "bold": FONT_DIR / "DejaVuSerif-Bold.ttf",
    "sans": FONT_DIR / "DejaVuSans.ttf",
    "sans_bold": FONT_DIR / "DejaVuSans-Bold.ttf",
}
# Certificates laid out per WeasyPrint pass: memory grows with the pages of a document.
BATCH = 100
# Official papers are Vietnamese documents whatever the organiser's interface language.
PAPER_LOCALE = "vi"


def qr_png_uri(url: str) -> str:
    """The QR code of url as a PNG data URI, one pixel per module: tiny and quick to lay out and draw (an SVG costs
    ~60 ms a page); the template scales it up without smoothing (`image-rendering: pixelated`)."""
    return segno.make(url, error="m", micro=False).png_data_uri(scale=1, border=4)


def _font_uris() -> dict[str, str]:
    return {name: path.as_uri() for name, path in FONTS.items()}


def _pdf_document(html: str, stylesheet: str):
    """Lay out html with the stylesheet template (templates/paperwork/*.css): local fonts only, nothing fetched."""
    # WeasyPrint takes about half a second to import (a third of a web or worker process's start-up): only the
    # processes that make a paper pay for it, when they first make one.
    from app.paperwork.pdf import lay_out

    with force_locale(PAPER_LOCALE):  # outside requests, the templates' context needs a locale
        rules = render_template(stylesheet, fonts=_font_uris())
    return lay_out(html, rules, fonts=FONTS, base_url=str(FONT_DIR))


@dataclass(frozen=True)
class CertificateFile:
    """One rendered certificate."""

    certificate: Certificate
    filename: str
    pdf: bytes
    verify_url: str


def certificate_filename(cert: Certificate) -> str:
    """An ASCII file name that sorts in the results' order, e.g. "03-giai-nhat-nguyen-van-a.pdf"."""
    return f"{cert.position + 1:03d}-{_ascii_slug(cert.award_name)}-{_ascii_slug(cert.recipient)}.pdf"


def _ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in plain).split()
    return "-".join(words)[:60] or "x"


def _certificate_html(
    contest: Contest, pub: Publication, certificates: Sequence[Certificate], verify_url: Callable[[str], str]
) -> str:
    date_line = vietnamese_date_line(contest.paper_place, paper_date(contest, pub))
    pages = [
        {
            "cert": cert,
            "recipient": nfc(cert.recipient),
            "award": nfc(cert.award_name),
            "unit": nfc(cert.unit_name),
            "entry_title": nfc(cert.entry_title),
            "individual": cert.award_kind == "individual",
            "verify_url": url,
            "qr": qr_png_uri(url),
        }
        for cert, url in ((c, verify_url(c.code)) for c in certificates)
    ]
    with force_locale(PAPER_LOCALE):
        return render_template(
            "paperwork/certificate.html",
            pages=pages,
            contest_title=nfc(pub.snapshot.get("title") or contest.title),
            date_line=date_line,
            signer_title=nfc(contest.signer_title),
            signer_name=nfc(contest.signer_name),
        )


def render_certificates(
    contest: Contest,
    pub: Publication,
    certificates: Sequence[Certificate],
    verify_url: Callable[[str], str],
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> Iterator[CertificateFile]:
    """One PDF per certificate. Pages are laid out BATCH at a time (fonts loaded and styles cascaded once per batch,
    memory bounded however many recipients there are) and written one by one."""
    total = len(certificates)
    for start in range(0, total, BATCH):
        batch = certificates[start : start + BATCH]
        document = _pdf_document(_certificate_html(contest, pub, batch, verify_url), "paperwork/certificate.css")
        if len(document.pages) != len(batch):
            raise RuntimeError(f"{len(batch)} certificates laid out on {len(document.pages)} pages: restyle the page")
        for done, (cert, page) in enumerate(zip(batch, document.pages, strict=True), start=start + 1):
            pdf = document.copy([page]).write_pdf()
            if on_progress is not None:
                on_progress(done, total)
            yield CertificateFile(
                certificate=cert, filename=certificate_filename(cert), pdf=pdf, verify_url=verify_url(cert.code)
            )
        del document


def certificates_zip(files: Iterator[CertificateFile]) -> bytes:
    """The certificates as one ZIP (PDFs are compressed already: stored, not deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for f in files:
            archive.writestr(f.filename, f.pdf)
    return buffer.getvalue()


def method_in_words(method: str, trim: int) -> str:
    """How the official score of an entry was computed, as a sentence for the minutes."""
    if method == "median":
        return _(
            "Each judge's score sheet gives a weighted total; an entry's score is the median of its judges' totals."
        )
    if method == "trimmed_mean":
        return _(
            "Each judge's score sheet gives a weighted total; an entry's score is the mean of its judges' totals after "
            "dropping the %(n)d highest and the %(n)d lowest (the plain mean when too few judges scored it).",
            n=trim,
        )
    if method == "zscore":
        return _(
            "Each judge's totals are standardised (z-scores: minus that judge's mean, divided by that judge's standard "
            "deviation) so that strict and lenient judges weigh the same; an entry's score is the mean of its "
            "standardised totals."
        )
    if method == "borda":
        return _(
            "Each judge ranks the entries by total; an entry receives points for each judge's ranking (Borda count: "
            "more points for a better place) and its score is the sum of those points."
        )
    return _("Each judge's score sheet gives a weighted total; an entry's score is the mean of its judges' totals.")


def tie_break_in_words(rule: str) -> str:
    """One tie-break rule as words."""
    if rule.startswith("criterion:"):
        return _("the higher score on the criterion “%(name)s”", name=nfc(rule.split(":", 1)[1]))
    if rule == "median":
        return _("the higher median of the judges' totals")
    if rule == "first_places":
        return _("more first places in the judges' rankings")
    return rule


def render_minutes(minutes: Minutes, contest: Contest) -> bytes:
    """The minutes of the judging as one PDF (A4 portrait)."""
    with force_locale(PAPER_LOCALE):
        html = render_template(
            "paperwork/minutes.html",
            m=minutes,
            method_words=method_in_words(minutes.method, minutes.trim),
            tie_break_words=[tie_break_in_words(t) for t in minutes.tie_breaks],
            contest=contest,
            signer_title=nfc(contest.signer_title),
            signer_name=nfc(contest.signer_name),
        )
    return _pdf_document(html, "paperwork/minutes.css").write_pdf()
