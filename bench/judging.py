"""Benchmark the real `python -m judging` CLI on 20,000 entries × 5 judges × 6 criteria.

Usage:  .venv/bin/python bench/judging.py [--runs N] [--entries N] [--keep DIR]

Writes a deterministic SCORES.csv (600,000 rows, seed 20240601, Vietnamese names,
UTF-8 with BOM like an Excel export) to a temp dir, then times each command in a
fresh interpreter via subprocess, so the figures include interpreter start, numpy
import, CSV parsing, computation and writing the JSON. Budget: 3 s wall per command,
judged on the median of the runs; the CPU column (user + sys of the child) shows the
cost without other processes' load. Exit status 1 if any command misses the budget.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 3.0
SEED = 20240601
JUDGES = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Nam", "Phạm Thu Hương", "Đỗ Minh Khôi"]
CRITERIA = [("Ý tưởng", 10, 2.0), ("Kịch bản", 10, 1.5), ("Quay phim", 10, 1.0),
            ("Dựng phim", 10, 1.0), ("Âm thanh", 5, 0.5), ("Ấn tượng", 10, 1.0)]  # fmt: skip


def write_inputs(folder: Path, entries: int) -> tuple[Path, Path]:
    """Deterministic rubric and scores CSVs; points in 0.5 steps like a real form."""
    rng = random.Random(SEED)
    rubric = folder / "RUBRIC.csv"
    with rubric.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["criterion", "max_points", "weight"])
        w.writerows([name, m, wt] for name, m, wt in CRITERIA)
    scores = folder / "SCORES.csv"
    with scores.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["entry", "judge", "criterion", "points"])
        for e in range(entries):
            quality = rng.random()
            for judge in JUDGES:
                harshness = rng.uniform(-0.15, 0.15)
                for name, max_points, _ in CRITERIA:
                    p = min(max(rng.gauss(quality + harshness, 0.2), 0.0), 1.0) * max_points
                    w.writerow([f"Phim {e:05d}", judge, name, round(p * 2) / 2])
    return scores, rubric


def time_command(args: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + sys) seconds of each run of the real CLI in a fresh interpreter."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "judging", *args], cwd=ROOT, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"judging {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}")
    return walls, cpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="write the CSVs here instead of a temp dir")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = opts.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        scores, rubric = write_inputs(folder, opts.entries)
        rows = opts.entries * len(JUDGES) * len(CRITERIA)
        print(f"{rows:,} rows ({scores.stat().st_size / 1e6:.1f} MB), {opts.runs} runs each, budget {BUDGET_S:.0f} s")
        common = [str(scores), "--rubric", str(rubric)]
        methods = ("mean", "median", "trimmed_mean", "zscore", "borda")
        cases = [(f"rank --method {m}", ["rank", *common, "--method", m, "--json"]) for m in methods]
        rules = ["criterion:Ý tưởng", "median", "first_places"]
        cases.append(("rank --method mean + 3 tie-breaks", ["rank", *common, "--tie-break", *rules, "--json"]))
        cases.append(("agreement", ["agreement", *common, "--json"]))
        cases.append(("rank --method mean (table output)", ["rank", *common]))

        failed = False
        load = os.getloadavg()[0]
        print(
            f"load average before: {load:.2f} on {os.cpu_count()} cores (other work on the machine inflates wall times)"
        )
        print(f"{'command':<36} {'wall best':>9} {'median':>7} {'worst':>6} {'cpu median':>11}  result (median wall)")
        for label, args in cases:
            walls, cpus = time_command(args, opts.runs)
            median = statistics.median(walls)
            ok = median <= BUDGET_S
            failed |= not ok
            print(
                f"{label:<36} {min(walls):9.2f} {median:7.2f} {max(walls):6.2f} "
                f"{statistics.median(cpus):11.2f}  {'PASS' if ok else 'FAIL'}"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
