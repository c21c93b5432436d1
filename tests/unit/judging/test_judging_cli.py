"""`python -m judging`: CSV handling, error messages, exit codes and JSON shapes."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from judging import METHODS, Criterion, Score, agreement, rank
from judging.cli import main
from judging.csvio import read_scores

ROOT = Path(__file__).resolve().parents[3]
SCORE_HEADER = ["entry", "judge", "criterion", "points"]
RUBRIC_ROWS = [["Story", "10", "2"], ["Sound", "10", "1"]]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def rubric_csv(tmp_path, helpers):
    return helpers.write_csv(tmp_path / "RUBRIC.csv", ["criterion", "max_points", "weight"], RUBRIC_ROWS)


@pytest.fixture
def good_scores(tmp_path, helpers):
    rows = [
        ["E1", "J1", "Story", "8"], ["E1", "J1", "Sound", "6"],
        ["E1", "J2", "Story", "7"], ["E1", "J2", "Sound", "9"],
        ["E2", "J1", "Story", "9"], ["E2", "J1", "Sound", "4"],
        ["E2", "J2", "Story", "6"], ["E2", "J2", "Sound", "5"],
    ]  # fmt: skip
    return helpers.write_csv(tmp_path / "SCORES.csv", SCORE_HEADER, rows)


def test_rank_json_shape(good_scores, rubric_csv):
    code, out, err = run("rank", good_scores, "--rubric", rubric_csv, "--method", "mean", "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert set(doc) == {"method", "tie_breaks", "trim", "entries", "judges", "ranking"}
    # E1: 22 and 23 -> 22.5 ; E2: 22 and 17 -> 19.5
    assert doc["ranking"] == [
        {"entry": "E1", "rank": 1, "score": 22.5, "tied": False, "judges": 2,
         "totals": {"J1": 22.0, "J2": 23.0}, "tie_break": None},
        {"entry": "E2", "rank": 2, "score": 19.5, "tied": False, "judges": 2,
         "totals": {"J1": 22.0, "J2": 17.0}, "tie_break": None},
    ]  # fmt: skip


def test_rank_table_output(good_scores, rubric_csv):
    code, out, _ = run("rank", good_scores, "--rubric", rubric_csv, "--method", "median")
    assert code == 0
    assert "method: median; 2 entries, 2 judges" in out
    assert "1     E1     22.500  2" in out


def test_tie_break_flag_forms(good_scores, rubric_csv):
    a = run("rank", good_scores, "--rubric", rubric_csv, "--tie-break", "median", "criterion:Story", "--json")
    b = run(
        "rank", good_scores, "--rubric", rubric_csv, "--tie-break", "median", "--tie-break", "criterion:Story", "--json"
    )
    assert a == b
    assert json.loads(a[1])["tie_breaks"] == ["median", "criterion:Story"]


def test_agreement_json_and_table(good_scores, rubric_csv):
    code, out, _ = run("agreement", good_scores, "--rubric", rubric_csv, "--threshold", "4", "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc["icc"]) == {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
    assert doc["threshold"] == 4 and doc["max_total"] == 30
    assert [(e["entry"], e["range"], e["flag"]) for e in doc["per_entry"]] == [("E1", 1.0, False), ("E2", 5.0, True)]
    code, out, _ = run("agreement", good_scores, "--rubric", rubric_csv)
    assert code == 0 and "Kendall's W" in out and "FLAG" not in out  # default threshold 7.5


def test_assign_json_and_warning(tmp_path, helpers):
    entries = helpers.write_csv(
        tmp_path / "ENTRIES.csv", ["entry", "unit"], [["E1", "Phim"], ["E2", ""], ["E3", "Báo"]]
    )
    judges = helpers.write_csv(tmp_path / "JUDGES.csv", ["judge", "unit"], [["J1", "Phim"], ["J2", ""], ["J3", "Báo"]])
    code, out, err = run("assign", entries, judges, "--per-entry", "2", "--seed", "7", "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"per_entry", "seed", "balanced", "note", "pairs", "unassignable", "loads"}
    assert {(p["entry"], p["judge"]) for p in doc["pairs"] if p["entry"] == "E1"} == {("E1", "J2"), ("E1", "J3")}
    assert sum(doc["loads"].values()) == 6 and doc["unassignable"] == []
    code, out, err = run("assign", entries, judges, "--per-entry", "3", "--json")
    doc = json.loads(out)
    assert code == 0 and "warning: 2 entries cannot get 3 eligible judges" in err
    assert doc["unassignable"][0] == {
        "entry": "E1", "eligible": 2, "reason": "only 2 eligible judges (needs 3); judges of the entry's own unit are excluded"
    }  # fmt: skip
    code, out, _ = run("assign", entries, judges, "--per-entry", "3")
    assert "unassignable:" in out


def bad_scores_cases():
    ok = [["E1", "J1", "Story", "8"], ["E1", "J1", "Sound", "6"]]
    return {
        "non-numeric": (ok + [["E2", "J1", "Story", "abc"]], "SCORES.csv row 4: points 'abc' is not a number"),
        "decimal comma": (ok + [["E2", "J1", "Story", "7,5"]], "row 4: points '7,5' is not a number (use a dot as decimal separator)"),
        "empty points": (ok + [["E2", "J1", "Story", ""]], "row 4: points is empty"),
        "unknown criterion": (ok + [["E2", "J1", "Plot", "3"]], "SCORES.csv row 4: unknown criterion 'Plot' (rubric has Story, Sound)"),
        "too high": (ok + [["E2", "J1", "Story", "11"]], "SCORES.csv row 4: points '11' out of range 0..10 for criterion 'Story'"),
        "negative": (ok + [["E2", "J1", "Sound", "-1"]], "SCORES.csv row 4: points '-1' out of range 0..10"),
        "nan": (ok + [["E2", "J1", "Sound", "nan"]], "SCORES.csv row 4: points 'nan' is not a finite number"),
        "duplicate": (ok + [["E1", "J1", "Story", "8"]], "SCORES.csv row 4: duplicate of row 2 (entry 'E1', judge 'J1', criterion 'Story')"),
        "incomplete": (ok + [["E2", "J1", "Story", "5"]], "SCORES.csv row 4: incomplete sheet: judge 'J1' scored entry 'E2' on 1 of 2 criteria; missing 'Sound'"),
        "empty entry": (ok + [["", "J1", "Story", "5"]], "SCORES.csv row 4: entry must be a non-empty string"),
        "short row": (ok + [["E2", "J1", "Story"]], "SCORES.csv row 4: expected 4 fields, found 3"),
    }  # fmt: skip


@pytest.mark.parametrize("case", list(bad_scores_cases()))
def test_invalid_scores_exit_2_naming_the_row(case, tmp_path, helpers, rubric_csv):
    rows, message = bad_scores_cases()[case]
    scores = helpers.write_csv(tmp_path / "SCORES.csv", SCORE_HEADER, rows)
    for command in (["rank", scores, "--rubric", rubric_csv, "--json"], ["agreement", scores, "--rubric", rubric_csv]):
        code, out, err = run(*command)
        assert code == 2 and out == ""
        assert message in err, err


def test_missing_columns(tmp_path, helpers, rubric_csv):
    scores = helpers.write_csv(tmp_path / "SCORES.csv", ["entry", "judge", "criterion"], [["E1", "J1", "Story"]])
    code, _, err = run("rank", scores, "--rubric", rubric_csv)
    assert code == 2 and "SCORES.csv: missing column(s) points" in err


@pytest.mark.parametrize(
    "rows, message",
    [
        ([["Story", "ten", "1"]], "RUBRIC.csv row 2: max_points 'ten' is not a number"),
        (
            [["Story", "10", "1"], ["Story", "5", "1"]],
            "RUBRIC.csv row 3: criterion 'Story' is listed twice (also RUBRIC.csv row 2)",
        ),
        ([["Story", "10", "0"]], "RUBRIC.csv row 2: weight must be greater than 0"),
        ([], "rubric has no criteria"),
    ],
)
def test_invalid_rubric(tmp_path, helpers, good_scores, rows, message):
    rubric = helpers.write_csv(tmp_path / "RUBRIC.csv", ["criterion", "max_points", "weight"], rows)
    code, _, err = run("rank", good_scores, "--rubric", rubric)
    assert code == 2 and message in err, err


def test_bad_options_exit_2(good_scores, rubric_csv, tmp_path):
    assert run("rank", good_scores, "--rubric", rubric_csv, "--tie-break", "criterion:Plot")[0] == 2
    code, _, err = run("rank", good_scores, "--rubric", rubric_csv, "--method", "trimmed_mean", "--trim", "-1")
    assert code == 2 and "trim must be a whole number >= 0" in err
    code, _, err = run("rank", tmp_path / "nope.csv", "--rubric", rubric_csv)
    assert code == 2 and "nope.csv: file not found" in err
    code, _, err = run("agreement", good_scores, "--rubric", rubric_csv, "--threshold", "-3")
    assert code == 2 and "flag threshold" in err


def test_assign_invalid_inputs(tmp_path, helpers):
    entries = helpers.write_csv(tmp_path / "ENTRIES.csv", ["entry", "unit"], [["E1", ""], ["E1", "A"]])
    judges = helpers.write_csv(tmp_path / "JUDGES.csv", ["judge", "unit"], [["J1", ""]])
    code, _, err = run("assign", entries, judges, "--per-entry", "1")
    assert code == 2 and "ENTRIES.csv row 3: entry 'E1' repeats row 2" in err
    good = helpers.write_csv(tmp_path / "E2.csv", ["entry", "unit"], [["E1", ""]])
    code, _, err = run("assign", good, judges, "--per-entry", "0")
    assert code == 2 and "per_entry must be a whole number >= 1" in err
    nojudge = helpers.write_csv(tmp_path / "J2.csv", ["name", "unit"], [["J1", ""]])
    code, _, err = run("assign", good, nojudge, "--per-entry", "1")
    assert code == 2 and "J2.csv: missing column(s) judge" in err


def test_bom_vietnamese_nfd_semicolons_and_blank_rows(tmp_path, helpers):
    story, judge = "Cốt truyện", "Nguyễn Thị Hồng"
    rubric = helpers.write_csv(
        tmp_path / "RUBRIC.csv", ["criterion", "max_points", "weight"], [[story, "10", "1,5"]], delimiter=";"
    )
    # the decimal comma in a ';' file is still a number error, never silently misread
    code, _, err = run("rank", tmp_path / "RUBRIC.csv", "--rubric", rubric)
    assert code == 2 and "weight '1,5' is not a number" in err
    rubric = helpers.write_csv(
        tmp_path / "RUBRIC.csv", ["criterion", "max_points", "weight"], [[story, "10", "1.5"]], delimiter=";"
    )
    nfd = unicodedata.normalize("NFD", judge)
    rows = [
        ["Phim số 1", judge, story, "8"],
        ["", "", "", ""],  # Excel's empty row
        ["Phim số 2", f" {nfd} ", story, "9.5"],  # same judge typed on a Mac
        ["Phim số 2", judge, story, "9"],
    ]
    scores = helpers.write_csv(tmp_path / "SCORES.csv", SCORE_HEADER, rows, encoding="utf-8-sig", delimiter=";")
    code, out, err = run("rank", scores, "--rubric", rubric, "--json")
    assert code == 2 and "SCORES.csv row 5: duplicate of row 4" in err  # blank row 3 still counted
    rows[3][0] = "Phim số 3"
    scores = helpers.write_csv(tmp_path / "SCORES.csv", SCORE_HEADER, rows, encoding="utf-8-sig", delimiter=";")
    code, out, err = run("rank", scores, "--rubric", rubric, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["judges"] == 1
    assert [(r["entry"], r["score"], list(r["totals"])) for r in doc["ranking"]] == [
        ("Phim số 2", 14.25, [judge]),
        ("Phim số 3", 13.5, [judge]),
        ("Phim số 1", 12.0, [judge]),
    ]


def random_contest(seed):
    rng = random.Random(seed)
    rubric = (Criterion("Ý tưởng", 10, weight=0.3, step=0.5), Criterion("Quay", 5, weight=1.7), Criterion("Dựng", 20))
    scores = []
    for e in range(40):
        for j in rng.sample(range(6), rng.randint(1, 6)):
            for c in rubric:
                step = c.step or 1
                scores.append(Score(f"E{e:02d}", f"GK {j}", c.name, rng.randint(0, int(c.max_points / step)) * step))
    rng.shuffle(scores)
    return rubric, scores


def write_contest(helpers, folder: Path, rubric, scores) -> tuple[Path, Path]:
    """The rubric and the scores as the CLI reads them (R.csv, S.csv in folder), every number exactly."""
    rubric_csv = helpers.write_csv(
        folder / "R.csv", ["criterion", "max_points", "weight", "step"],
        [[c.name, repr(c.max_points), repr(c.weight), "" if c.step is None else repr(c.step)] for c in rubric],
    )  # fmt: skip
    scores_csv = helpers.write_csv(
        folder / "S.csv", SCORE_HEADER, [[s.entry, s.judge, s.criterion, repr(s.points)] for s in scores]
    )
    return rubric_csv, scores_csv


@pytest.mark.parametrize("method", METHODS)
def test_csv_path_and_api_path_agree(tmp_path, helpers, method):
    rubric, scores = random_contest(1)
    rubric_csv, scores_csv = write_contest(helpers, tmp_path, rubric, scores)
    rules = ["criterion:Quay", "median", "first_places"]
    args = ["rank", scores_csv, "--rubric", rubric_csv, "--method", method, "--trim", "2", "--json"]
    code, out, err = run(*args, "--tie-break", *rules)
    assert code == 0, err
    api = rank(scores, rubric, method=method, tie_breaks=rules, trim=2)
    assert json.loads(out)["ranking"] == [r.as_dict() for r in api]
    # read_scores (CSV -> Score objects -> API) gives the same too
    assert rank(read_scores(scores_csv), rubric, method=method, tie_breaks=rules, trim=2) == api


def test_agreement_paths_agree(tmp_path, helpers):
    rubric, scores = random_contest(2)
    full = [s for s in scores if s.judge in {"GK 0", "GK 1"}]  # not complete either; per_entry compared
    rubric_csv, scores_csv = write_contest(helpers, tmp_path, rubric, full)
    code, out, _ = run("agreement", scores_csv, "--rubric", rubric_csv, "--json")
    assert code == 0 and json.loads(out) == agreement(full, rubric).as_dict()


def test_real_subprocess_exit_codes(tmp_path, helpers, rubric_csv, good_scores):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": ""}
    bad = helpers.write_csv(
        tmp_path / "BAD.csv", SCORE_HEADER, [["E1", "J1", "Story", "abc"], ["E1", "J1", "Sound", "1"]]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "judging", "rank", str(bad), "--rubric", str(rubric_csv), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8",
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "error: BAD.csv row 2: points 'abc' is not a number"
    proc = subprocess.run(
        [sys.executable, "-m", "judging", "rank", str(good_scores), "--rubric", str(rubric_csv), "--method", "nope"],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8",
    )  # fmt: skip
    assert proc.returncode == 2 and "invalid choice: 'nope'" in proc.stderr
    viet = helpers.write_csv(
        tmp_path / "V.csv", SCORE_HEADER, [["Phim", "Bà Tư", "Story", "1"], ["Phim", "Bà Tư", "Sound", "2"]]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "judging", "rank", str(viet), "--rubric", str(rubric_csv)],
        cwd=ROOT, env=env, capture_output=True, encoding="utf-8",
    )  # fmt: skip
    assert proc.returncode == 0 and "Phim" in proc.stdout


def test_not_utf8_and_quoted_fields(tmp_path, helpers, rubric_csv):
    latin = tmp_path / "SCORES.csv"
    latin.write_bytes("entry,judge,criterion,points\nPhim,Bà Tư,Story,1\n".encode("cp1258"))
    code, _, err = run("rank", latin, "--rubric", rubric_csv)
    assert code == 2 and "SCORES.csv: not UTF-8 text" in err
    # a quoted id with a comma and a newline is one field, as in any spreadsheet
    rows = [['Phim "A", tập 1\nbản cuối', "J1", "Story", "3"], ['Phim "A", tập 1\nbản cuối', "J1", "Sound", "4"]]
    scores = helpers.write_csv(tmp_path / "Q.csv", SCORE_HEADER, rows)
    code, out, err = run("rank", scores, "--rubric", rubric_csv, "--json")
    assert code == 0, err
    assert json.loads(out)["ranking"][0]["entry"] == 'Phim "A", tập 1\nbản cuối'


def test_read_units_and_rubric_step(tmp_path, helpers):
    from judging.csvio import read_rubric, read_units

    # header case and extra columns do not matter; ids and units are trimmed; empty unit is None
    path = helpers.write_csv(
        tmp_path / "J.csv", ["Judge", "Unit", "email"], [["  Cô Lan ", " Khoa Phim ", "lan@x"], ["Thầy Minh", "", ""]]
    )
    assert read_units(path, "judge") == {"Cô Lan": "Khoa Phim", "Thầy Minh": None}
    rubric = helpers.write_csv(
        tmp_path / "R.csv", ["criterion", "max_points", "weight", "step"], [["A", "10", "", "0.5"]]
    )
    assert read_rubric(rubric) == (Criterion("A", 10.0, 1.0, 0.5),)
