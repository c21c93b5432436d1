"""CSV input: UTF-8 with or without BOM, ',' ';' or tab separated, header row required.

Rows are numbered as a spreadsheet shows them: the header is row 1, so the first
data row is row 2. Rows whose cells are all empty are skipped (Excel leaves
them behind); any other malformed row is an error naming its row number.
"""

from __future__ import annotations

import csv
import gc
import itertools
import os
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from .errors import JudgingError
from .model import Criterion, Score
from .table import ScoreTable, build_table, factorize, validate_rubric


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: parsing allocates ~2M small objects and no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


class _Sheet:
    """Data rows of one CSV file as columns, with spreadsheet row numbers for messages."""

    def __init__(self, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()):
        self.name = os.path.basename(str(path))
        try:
            with open(path, encoding="utf-8-sig", newline="") as f:
                first_line = f.readline()
                # Excel in locales with a decimal comma (e.g. vi-VN) separates with ';'
                delimiter = max((",", ";", "\t"), key=first_line.count)
                # straight from the file: a full-text copy would cost ~100 MB at 600k rows
                rows = list(csv.reader(itertools.chain([first_line], f), delimiter=delimiter, strict=True))
        except FileNotFoundError:
            raise JudgingError(f"{path}: file not found") from None
        except UnicodeDecodeError:
            raise JudgingError(f"{self.name}: not UTF-8 text; save it as 'CSV UTF-8'") from None
        except csv.Error as exc:
            raise JudgingError(f"{self.name}: malformed CSV: {exc}") from None
        except OSError as exc:
            raise JudgingError(f"{path}: cannot read ({exc.strerror})") from None
        if not rows or not any(cell.strip() for cell in rows[0]):
            raise JudgingError(f"{self.name}: empty file; expected a header row with {', '.join(required)}")
        header = [_clean(h).lower() for h in rows[0]]
        missing = [c for c in required if c not in header]
        if missing:
            raise JudgingError(
                f"{self.name}: missing column(s) {', '.join(missing)} (header has {', '.join(header) or 'nothing'})"
            )
        for col in set(required + optional):
            if header.count(col) > 1:
                raise JudgingError(f"{self.name}: column '{col}' appears twice in the header")
        width = len(header)
        data = rows[1:]
        kept: range | list[int] = range(len(data))  # data index of each kept row
        if set(map(len, data)) - {width}:  # map/set keep the 600k-row check in C
            kept = []
            for i, r in enumerate(data):
                if _blank(r):
                    continue
                if len(r) < width or any(cell.strip() for cell in r[width:]):
                    raise JudgingError(f"{self.name} row {i + 2}: expected {width} fields, found {len(r)}")
                kept.append(i)
            data = [data[i][:width] for i in kept]
        cols = list(zip(*data, strict=False)) if data else [()] * width
        if "" in cols[0]:  # a ',,,' row left by Excel is blank in every column
            keep = [k for k, r in enumerate(data) if not _blank(r)]
            if len(keep) < len(data):
                kept = [kept[k] for k in keep]
                cols = [tuple(col[k] for k in keep) for col in cols]
        self.row_numbers = None if isinstance(kept, range) else [i + 2 for i in kept]
        self.columns = {name: cols[header.index(name)] for name in required + optional if name in header}
        self.size = len(cols[0])

    def row(self, i: int) -> int:
        """Spreadsheet row number of data row i."""
        return self.row_numbers[i] if self.row_numbers is not None else i + 2

    def label(self, i: int) -> str:
        return f"{self.name} row {self.row(i)}"


def _parse_numbers(sheet: _Sheet, column: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Parse a numeric column, naming the first bad cell; parses each distinct text once."""
    raw = sheet.columns[column]
    uniques, codes = factorize(raw)
    parsed: list[float] = []
    for text in uniques:
        t = text.strip()
        try:
            if not t or "_" in t:  # float() accepts '1_0'; a spreadsheet never means that
                raise ValueError
            parsed.append(float(t))
        except ValueError:
            hint = " (use a dot as decimal separator)" if "," in t else ""
            problem = "is empty" if not t else f"'{text}' is not a number{hint}"
            i = int(np.flatnonzero(codes == len(parsed))[0])
            raise JudgingError(f"{sheet.label(i)}: {column} {problem}") from None
    return np.array(parsed, dtype=np.float64)[codes], raw


def read_rubric(path: str) -> tuple[Criterion, ...]:
    """Read RUBRIC.csv (criterion,max_points[,weight][,step])."""
    sheet = _Sheet(path, ("criterion", "max_points"), ("weight", "step"))
    crits = []
    for i in range(sheet.size):
        where = sheet.label(i)
        name = _clean(sheet.columns["criterion"][i])
        if not name:
            raise JudgingError(f"{where}: criterion name is empty")
        nums: dict[str, float] = {}
        for col in ("max_points", "weight", "step"):
            text = sheet.columns[col][i].strip() if col in sheet.columns else ""
            if not text:
                if col == "max_points":
                    raise JudgingError(f"{where}: max_points is empty")
                continue
            try:
                if "_" in text:
                    raise ValueError
                nums[col] = float(text)
            except ValueError:
                raise JudgingError(f"{where}: {col} '{text}' is not a number") from None
        crits.append(Criterion(name, nums["max_points"], nums.get("weight", 1.0), nums.get("step")))
    return validate_rubric(crits, label=sheet.label)


def read_score_table(path: str, rubric: tuple[Criterion, ...]) -> ScoreTable:
    """Read SCORES.csv (entry,judge,criterion,points) straight into a validated ScoreTable."""
    with gc_paused():
        sheet = _Sheet(path, ("entry", "judge", "criterion", "points"))
        points, raw = _parse_numbers(sheet, "points")
        return build_table(
            sheet.columns["entry"],
            sheet.columns["judge"],
            sheet.columns["criterion"],
            points,
            rubric,
            label=sheet.label,
            raw_points=raw,
            clean_ids=True,
            ref=lambda i: f"row {sheet.row(i)}",
        )


def read_scores(path: str) -> list[Score]:
    """Read SCORES.csv into Score objects (ids stripped and NFC-normalised; not validated)."""
    with gc_paused():
        sheet = _Sheet(path, ("entry", "judge", "criterion", "points"))
        points, _ = _parse_numbers(sheet, "points")
        cols = sheet.columns
        # clean each distinct id once, not 1.8M times
        cleaned = {v: _clean(v) for k in ("entry", "judge", "criterion") for v in dict.fromkeys(cols[k])}
        return [
            Score(cleaned[e], cleaned[j], cleaned[c], p)
            for e, j, c, p in zip(cols["entry"], cols["judge"], cols["criterion"], points.tolist(), strict=True)
        ]


def read_units(path: str, id_column: str) -> dict[str, str | None]:
    """Read ENTRIES.csv / JUDGES.csv (<id_column>[,unit]) into {id: unit or None}."""
    sheet = _Sheet(path, (id_column,), ("unit",))
    ids = sheet.columns[id_column]
    units = sheet.columns.get("unit", ("",) * sheet.size)
    out: dict[str, str | None] = {}
    first_row: dict[str, int] = {}
    for i, (key, unit) in enumerate(zip(ids, units, strict=True)):
        key = _clean(key)
        if not key:
            raise JudgingError(f"{sheet.label(i)}: {id_column} is empty")
        if key in out:
            raise JudgingError(f"{sheet.label(i)}: {id_column} '{key}' repeats row {sheet.row(first_row[key])}")
        first_row[key] = i
        out[key] = _clean(unit) or None
    return out
