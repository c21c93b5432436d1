"""`flask awards certificates` and `flask results minutes`: the contest's paperwork as PDF files."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.common import committing, current_session, echo_json
from app.cli.results import results_group
from app.services import contests, paperwork
from app.urls import PublicUrlMissing

awards_group = AppGroup("awards", help="Awards and their certificates.")


def _contest(session, slug: str):
    contest = contests.get_contest(session, slug)
    if contest is None:
        raise click.ClickException(f"no contest {slug!r}")
    return contest


@awards_group.command("certificates")
@click.option("--contest", "slug", required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
def awards_certificates(slug: str, out_dir: Path) -> None:
    """Write one PDF per award recipient of the published results; prints [{file, recipient, award, verify_url}]."""
    from app.paperwork.links import loopback_warning, verify_url_maker
    from app.paperwork.render import render_certificates

    try:
        make_url = verify_url_maker()
    except PublicUrlMissing:
        raise click.ClickException(
            "PUBLIC_URL is not set: the certificates' QR codes would lead nowhere. Set it to the portal's address."
        ) from None
    if loopback_warning():
        click.echo("warning: PUBLIC_URL is a loopback address; the QR codes work on this machine only", err=True)
    with committing() as session:
        contest = _contest(session, slug)
        certificates = paperwork.issue_certificates(session, actor=None, contest=contest)
    pub = certificates[0].publication if certificates else None
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if pub is not None:
        for rendered in render_certificates(contest, pub, certificates, make_url):
            path = (out_dir / rendered.filename).resolve()
            path.write_bytes(rendered.pdf)
            written.append(
                {
                    "file": str(path),
                    "recipient": rendered.certificate.recipient,
                    "award": rendered.certificate.award_name,
                    "verify_url": rendered.verify_url,
                }
            )
    echo_json(written)


@results_group.command("minutes")
@click.option("--contest", "slug", required=True)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
def results_minutes(slug: str, out_file: Path) -> None:
    """Write the minutes of the judging (PDF) from the published results; prints {"file"}."""
    from app.paperwork.render import render_minutes

    session = current_session()
    contest = _contest(session, slug)
    with committing():
        minutes = paperwork.minutes_of(session, contest)
    path = out_file.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_minutes(minutes, contest))
    echo_json({"file": str(path)})
