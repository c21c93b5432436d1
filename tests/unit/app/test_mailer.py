"""SMTP_URL parsing and the MIME form of an outbox row (no services)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.mailer import SmtpUrlError, build_email, new_message_id, parse_smtp_url, sender_domain
from app.models import MailKind, OutboxMessage


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://host:25", ("host", 25, False, False, None, None)),
        ("smtp://host", ("host", 25, False, False, None, None)),
        ("smtp://u%40x:p%3As@mail.example.vn:587?starttls=1", ("mail.example.vn", 587, False, True, "u@x", "p:s")),
        ("smtp://u:p@mail.example.vn?starttls=1", ("mail.example.vn", 587, False, True, "u", "p")),
        ("smtps://u:p@mail.example.vn", ("mail.example.vn", 465, True, False, "u", "p")),
        ("smtps://u:p@mail.example.vn:2465?starttls=1", ("mail.example.vn", 2465, True, False, "u", "p")),
    ],
)
def test_smtp_urls(url, expected):
    s = parse_smtp_url(url)
    assert (s.host, s.port, s.ssl, s.starttls, s.username, s.password) == expected


@pytest.mark.parametrize("url", ["http://host", "smtp://", "host:25", ""])
def test_bad_smtp_urls_are_refused(url):
    with pytest.raises(SmtpUrlError):
        parse_smtp_url(url)


def test_message_ids_are_unique_under_the_senders_domain():
    assert sender_domain("Ban Tổ chức <cuocthi@example.gov.vn>") == "example.gov.vn"
    assert sender_domain("nobody") == "localhost"
    first, second = new_message_id("a@x.vn"), new_message_id("a@x.vn")
    assert first != second and first.endswith("@x.vn>") and first.startswith("<")


def test_the_mime_message_has_both_bodies_and_the_stored_headers():
    row = OutboxMessage(
        to_email="hoa@example.vn",
        to_name="Chị Hoa",
        kind=MailKind.OTHER,
        locale="vi",
        subject="Thư thử — tiếng Việt",
        body_text="Xin chào\n",
        body_html="<p>Xin chào</p>",
        message_id="<abc@example.gov.vn>",
        created_at=datetime(2026, 12, 3, 5, 0, tzinfo=UTC),
    )
    email = build_email(row, "Ban Tổ chức <cuocthi@example.gov.vn>")
    assert email["Message-ID"] == "<abc@example.gov.vn>"
    assert email["To"] == "Chị Hoa <hoa@example.vn>"
    assert email["From"].addresses[0].addr_spec == "cuocthi@example.gov.vn"
    assert email["Date"] == "Thu, 03 Dec 2026 05:00:00 +0000"
    assert email["Content-Language"] == "vi"
    assert email.get_body(("plain",)).get_content() == "Xin chào\n"
    assert email.get_body(("html",)).get_content().strip() == "<p>Xin chào</p>"
