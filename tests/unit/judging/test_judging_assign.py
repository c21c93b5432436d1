"""Judge assignment invariants, conflicts, determinism and optimal balance."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from judging import Assignment, JudgingError, assign


def check_invariants(result: Assignment, entries, judges, k):
    panels: dict[str, list[str]] = {}
    for e, j in result.pairs:
        panels.setdefault(e, []).append(j)
        # never a judge of the entry's own unit
        assert not (entries[e] and judges[j] and entries[e] == judges[j]), (e, j)
    left_out = {u.entry for u in result.unassignable}
    for e in entries:
        if e in left_out:
            assert e not in panels
        else:
            assert len(panels[e]) == k and len(set(panels[e])) == k, e
    assert result.loads == {j: Counter(j for _, j in result.pairs)[j] for j in sorted(judges)}
    assert result.pairs == sorted(result.pairs)


def test_no_conflicts_even_loads():
    entries = {f"E{i}": None for i in range(10)}
    judges = {f"J{i}": None for i in range(4)}
    result = assign(entries, judges, per_entry=2)
    check_invariants(result, entries, judges, 2)
    assert len(result.pairs) == 20
    assert result.loads == {"J0": 5, "J1": 5, "J2": 5, "J3": 5}
    assert result.balanced and result.unassignable == [] and result.note is None


def test_conflicts_are_respected_and_loads_within_one():
    rng = random.Random(5)
    units = ["Film", "Media", "Design", None]
    entries = {f"E{i:03d}": rng.choice(units) for i in range(120)}
    judges = {f"J{i:02d}": units[i % 4] for i in range(10)}
    result = assign(entries, judges, per_entry=3, seed=1)
    check_invariants(result, entries, judges, 3)
    assert result.unassignable == []
    assert max(result.loads.values()) - min(result.loads.values()) <= 1
    assert result.balanced


def test_skewed_conflicts_still_balance_when_possible():
    # 9 of 10 entries are from unit A; two of four judges are from A. Greedy-by-load
    # alone would overload B1/B2; the repair moves must still reach loads 5,5,5,5.
    entries = {f"A{i}": "A" for i in range(9)} | {"X": None}
    judges = {"A1": "A", "A2": "A", "B1": None, "B2": "B"}
    result = assign(entries, judges, per_entry=2)
    check_invariants(result, entries, judges, 2)
    # A-entries can only use B1/B2: 18 pairs on two judges, A1/A2 take just X -> 9,9,1,1 is forced
    assert result.loads == {"A1": 1, "A2": 1, "B1": 9, "B2": 9}
    assert not result.balanced and "most even" in result.note


def test_unassignable_entries_are_reported_not_dropped():
    entries = {"E1": "A", "E2": "B", "E3": None}
    judges = {"J1": "A", "J2": "A", "J3": "B"}
    result = assign(entries, judges, per_entry=2)
    # E1 has one eligible judge (J3); E2 has two (J1, J2); E3 has all three
    assert [(u.entry, u.eligible) for u in result.unassignable] == [("E1", 1)]
    assert result.reason(result.unassignable[0]).startswith("only 1 eligible judge (needs 2)")
    check_invariants(result, entries, judges, 2)
    assert {e for e, _ in result.pairs} == {"E2", "E3"}


def test_more_judges_needed_than_exist():
    result = assign({"E1": None}, {"J1": None}, per_entry=2)
    assert result.pairs == [] and [tuple(u) for u in result.unassignable] == [("E1", 1)]
    assert result.loads == {"J1": 0}


def test_deterministic_per_seed_and_independent_of_dict_order():
    rng = random.Random(9)
    entries = {f"E{i}": rng.choice(["A", "B", None]) for i in range(40)}
    judges = {f"J{i}": ["A", "B", None][i % 3] for i in range(7)}
    first = assign(entries, judges, per_entry=3, seed=42)
    shuffled = dict(reversed(list(entries.items())))
    assert assign(shuffled, dict(reversed(list(judges.items()))), per_entry=3, seed=42) == first
    others = {tuple(assign(entries, judges, per_entry=3, seed=s).pairs) for s in range(5)}
    assert len(others) > 1  # the seed really varies the panels


def _best_possible(entries, judges, k):
    """Exhaustive minimum of Σ load² and of (max − min) over all valid assignments."""
    choices = []
    for unit in entries.values():
        ok = [j for j, ju in judges.items() if not (unit and ju and unit == ju)]
        if len(ok) >= k:
            choices.append(list(itertools.combinations(ok, k)))
    best_sq, best_spread = None, None
    for combo in itertools.product(*choices):
        load = Counter(j for panel in combo for j in panel)
        loads = [load[j] for j in judges]
        sq, spread = sum(x * x for x in loads), max(loads) - min(loads)
        best_sq = sq if best_sq is None else min(best_sq, sq)
        best_spread = spread if best_spread is None else min(best_spread, spread)
    return best_sq, best_spread


def test_matches_exhaustive_optimum_on_small_instances():
    rng = random.Random(2024)
    for trial in range(40):
        units = ["A", "B", None]
        entries = {f"E{i}": rng.choice(units) for i in range(rng.randint(1, 5))}
        judges = {f"J{i}": rng.choice(units) for i in range(rng.randint(2, 4))}
        k = rng.randint(1, 2)
        result = assign(entries, judges, per_entry=k, seed=trial)
        check_invariants(result, entries, judges, k)
        best_sq, best_spread = _best_possible(entries, judges, k)
        loads = list(result.loads.values())
        assert sum(x * x for x in loads) == best_sq, (entries, judges, k)
        assert max(loads) - min(loads) == best_spread, (entries, judges, k)
        assert result.balanced == (best_spread <= 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"per_entry": 0}, "per_entry must be a whole number >= 1"),
        ({"per_entry": True}, "per_entry must be"),
        ({"per_entry": 1, "seed": "x"}, "seed must be a whole number"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(JudgingError, match=message):
        assign({"E": None}, {"J": None}, **kwargs)


def test_bad_ids_and_units():
    with pytest.raises(JudgingError, match="entry id must be a non-empty string"):
        assign({"": None}, {"J": None}, per_entry=1)
    with pytest.raises(JudgingError, match="judge 'J': unit must be a string or None"):
        assign({"E": None}, {"J": 3}, per_entry=1)


def test_empty_unit_means_no_unit():
    result = assign({"E": ""}, {"J": ""}, per_entry=1)
    assert result.pairs == [("E", "J")]


def test_larger_instance_is_quick_and_valid():
    rng = random.Random(1)
    units = [f"U{i}" for i in range(6)]
    entries = {f"E{i:04d}": rng.choice(units + [None]) for i in range(1500)}
    judges = {f"J{i:02d}": units[i % 6] for i in range(40)}
    result = assign(entries, judges, per_entry=3, seed=3)
    check_invariants(result, entries, judges, 3)
    assert result.balanced


def test_repair_follows_a_chain_of_moves():
    # Start from a poor state: J1 holds e1 and e2 (both only eligible for J1/J2), J2 holds
    # e3 (eligible J2/J3), J3 holds nothing. No single move helps J3 directly from J1;
    # the repair must move e1 J1 -> J2 and e3 J2 -> J3.
    from judging.assignment import _improve

    judges = ["J1", "J2", "J3"]
    eligible = {"e1": ["J1", "J2"], "e2": ["J1", "J2"], "e3": ["J2", "J3"]}
    panel = {"e1": {"J1": None}, "e2": {"J1": None}, "e3": {"J2": None}}
    work = {"J1": {"e1": None, "e2": None}, "J2": {"e3": None}, "J3": {}}
    load = {"J1": 2, "J2": 1, "J3": 0}
    assert _improve(judges, load, panel, work, eligible)
    assert load == {"J1": 1, "J2": 1, "J3": 1}
    assert panel == {"e1": {"J2": None}, "e2": {"J1": None}, "e3": {"J3": None}}
    assert work == {"J1": {"e2": None}, "J2": {"e1": None}, "J3": {"e3": None}}
    assert not _improve(judges, load, panel, work, eligible)
