"""`python -m judging rank|agreement|assign ...`; exit 2 with a message on invalid input."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from .assignment import assign
from .csvio import gc_paused, read_rubric, read_score_table, read_units
from .errors import JudgingError
from .methods import parse_tie_breaks
from .model import METHODS
from .ranking import check_options, rank_table
from .reliability import agreement_table, check_threshold

EXIT_INVALID = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m judging", description="Rank, check and assign contest judging.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("rank", help="rank entries from a scores CSV")
    r.add_argument("scores", metavar="SCORES.csv")
    r.add_argument("--rubric", required=True, metavar="RUBRIC.csv")
    r.add_argument("--method", default="mean", choices=METHODS)
    r.add_argument(
        "--tie-break",
        dest="tie_breaks",
        action="extend",
        nargs="+",
        default=[],
        metavar="RULE",
        help="criterion:<name>, median or first_places; applied in the order given",
    )
    r.add_argument("--trim", type=int, default=1, metavar="K", help="totals dropped at each end by trimmed_mean")
    r.add_argument("--json", action="store_true", help="print JSON instead of a table")

    a = sub.add_parser("agreement", help="Kendall's W, ICCs and per-entry spread")
    a.add_argument("scores", metavar="SCORES.csv")
    a.add_argument("--rubric", required=True, metavar="RUBRIC.csv")
    a.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="X",
        help="flag ranges above X points (default 25%% of max total)",
    )
    a.add_argument("--json", action="store_true")

    s = sub.add_parser("assign", help="assign judges to entries")
    s.add_argument("entries", metavar="ENTRIES.csv")
    s.add_argument("judges", metavar="JUDGES.csv")
    s.add_argument("--per-entry", type=int, required=True, metavar="K")
    s.add_argument("--seed", type=int, default=0, metavar="N")
    s.add_argument("--json", action="store_true")
    return p


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _rank(args: argparse.Namespace, out: TextIO) -> None:
    check_options(args.method, args.trim)
    rubric = read_rubric(args.rubric)
    parse_tie_breaks(args.tie_breaks, rubric)  # fail fast, before reading 600k rows
    table = read_score_table(args.scores, rubric)
    ranking = rank_table(table, method=args.method, tie_breaks=args.tie_breaks, trim=args.trim)
    if args.json:
        doc = {
            "method": args.method,
            "tie_breaks": list(args.tie_breaks),
            "trim": args.trim,
            "entries": len(ranking),
            "judges": len(table.judges),
            "ranking": [r.as_dict() for r in ranking],
        }
        out.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return
    rows = [
        [f"{r.rank}{'=' if r.tied else ''}", r.entry, _num(r.score), str(r.judges), r.tie_break or ""] for r in ranking
    ]
    out.write(f"method: {args.method}; {len(ranking)} entries, {len(table.judges)} judges\n")
    out.write(_table(["rank", "entry", "score", "judges", "tie-break"], rows) + "\n")


def _agreement(args: argparse.Namespace, out: TextIO) -> None:
    check_threshold(args.threshold)
    rubric = read_rubric(args.rubric)
    report = agreement_table(read_score_table(args.scores, rubric), flag_threshold=args.threshold)
    if args.json:
        out.write(json.dumps(report.as_dict(), ensure_ascii=False) + "\n")
        return
    out.write(f"entries: {report.entries}, judges: {report.judges}, complete matrix: {report.complete}\n")
    out.write(f"Kendall's W: {_num(report.kendall_w)}\n")
    out.write("  ".join(f"{k}: {_num(v)}" for k, v in report.icc.items()) + "\n")
    if report.note:
        out.write(f"note: {report.note}\n")
    flagged = [e for e in report.per_entry if e.flag]
    out.write(f"flagged (range > {report.threshold:g}): {len(flagged)} of {len(report.per_entry)}\n")
    rows = [
        [e.entry, str(e.judges), _num(e.mean), _num(e.sd), _num(e.range), "FLAG" if e.flag else ""]
        for e in report.per_entry
    ]
    out.write(_table(["entry", "judges", "mean", "sd", "range", "flag"], rows) + "\n")


def _assign(args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    entries = read_units(args.entries, "entry")
    judges = read_units(args.judges, "judge")
    result = assign(entries, judges, per_entry=args.per_entry, seed=args.seed)
    if result.unassignable:
        err.write(f"warning: {len(result.unassignable)} entries cannot get {result.per_entry} eligible judges\n")
    if result.note:
        err.write(f"warning: {result.note}\n")
    if args.json:
        out.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
        return
    panels: dict[str, list[str]] = {}
    for e, j in result.pairs:
        panels.setdefault(e, []).append(j)
    out.write(_table(["entry", "judges"], [[e, ", ".join(js)] for e, js in panels.items()]) + "\n\n")
    out.write(_table(["judge", "load"], [[j, str(n)] for j, n in result.loads.items()]) + "\n")
    if result.unassignable:
        out.write("\nunassignable:\n")
        out.write(_table(["entry", "reason"], [[u.entry, result.reason(u)] for u in result.unassignable]) + "\n")


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 invalid input)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    for stream in (out, err):
        # JSON and Vietnamese names must not die on a C/POSIX-locale terminal
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower().replace("-", "") != "utf8":
            stream.reconfigure(encoding="utf-8")
    args = _parser().parse_args(argv)
    try:
        with gc_paused():
            if args.command == "rank":
                _rank(args, out)
            elif args.command == "agreement":
                _agreement(args, out)
            else:
                _assign(args, out, err)
    except JudgingError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_INVALID
    out.flush()
    return 0
