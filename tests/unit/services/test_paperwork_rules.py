"""Paperwork rules without services: who receives a certificate, the Vietnamese date line, NFC text."""

from __future__ import annotations

import unicodedata
from datetime import date

from app.models import AwardKind
from app.services.paperwork import nfc, recipients_of, vietnamese_date_line


def _snapshot(kind: str, winner: dict) -> dict:
    base = {"entry_id": 7, "title": "Bố mẹ cùng làm việc nhà", "unit": "UBND phường Phú Hội"}
    return {"awards": [{"name": "Giải Nhất", "kind": kind, "winners": [{**base, **winner}]}]}


def test_a_group_prize_goes_to_the_unit_once():
    (r,) = recipients_of(_snapshot("group", {"author_names": ["Nguyễn Văn A", "Lê Thị B"]}))
    assert (r.recipient, r.award, r.kind, r.entry_id) == ("UBND phường Phú Hội", "Giải Nhất", AwardKind.GROUP, 7)


def test_an_individual_prize_gives_each_author_a_certificate():
    got = recipients_of(_snapshot("individual", {"author_names": ["Nguyễn Văn A", "Lê Thị B", "Nguyễn Văn A"]}))
    assert [r.recipient for r in got] == ["Nguyễn Văn A", "Lê Thị B"]  # a repeated name gets one certificate
    assert {r.unit for r in got} == {"UBND phường Phú Hội"}


def test_older_snapshots_with_free_text_authors_are_split():
    got = recipients_of(_snapshot("individual", {"authors": "Nguyễn Văn A, Lê Thị B; Trần C"}))
    assert [r.recipient for r in got] == ["Nguyễn Văn A", "Lê Thị B", "Trần C"]


def test_an_individual_prize_without_authors_goes_to_the_unit():
    (r,) = recipients_of(_snapshot("individual", {"authors": "", "author_names": []}))
    assert r.recipient == "UBND phường Phú Hội"


def test_names_are_composed_nfc():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung")
    (r,) = recipients_of(_snapshot("individual", {"author_names": [decomposed]}))
    assert r.recipient == "Nguyễn Thị Hồng Nhung" and unicodedata.is_normalized("NFC", r.recipient)
    assert nfc("  Trần   Văn  ") == "Trần Văn"


def test_the_vietnamese_date_line():
    assert vietnamese_date_line("Huế", date(2027, 1, 15)) == "Huế, ngày 15 tháng 01 năm 2027"
    assert vietnamese_date_line("", date(2027, 11, 5)) == "Ngày 05 tháng 11 năm 2027"
    # Decree 30/2020/NĐ-CP: a leading zero for days below 10 and for January and February only.
    assert vietnamese_date_line("Hà Nội", date(2027, 2, 3)) == "Hà Nội, ngày 03 tháng 02 năm 2027"
    assert vietnamese_date_line("Hà Nội", date(2027, 3, 3)) == "Hà Nội, ngày 03 tháng 3 năm 2027"
