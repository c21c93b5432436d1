"""Judge assignment: K judges per entry, no own-unit judge, loads as even as possible.

Greedy with repair. The greedy pass gives each entry (most constrained first) the
K least-loaded eligible judges. The repair pass then looks for chains of moves
h -> j1 -> ... -> l (entry e1 moves from h to j1, e2 from j1 to j2, ...) that lower
a judge h by one and raise a judge l with load(l) <= load(h) - 2. Such a chain is
exactly a negative-cost cycle of the convex-cost flow "minimise Σ load²", so when
none is left the loads are optimal: within one of each other whenever any
assignment allows that, and otherwise as even as the unit conflicts permit
(Σ load² minimal, which for these bipartite degree sets also minimises the max
and maximises the min load).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping

from .errors import JudgingError
from .model import Assignment, Unassignable


def _check_ids(mapping: object, what: str) -> dict[str, str | None]:
    if not isinstance(mapping, Mapping):
        raise JudgingError(f"{what}s must be a mapping of {what} id to unit")
    out: dict[str, str | None] = {}
    for key, unit in mapping.items():
        if not isinstance(key, str) or not key.strip():
            raise JudgingError(f"{what} id must be a non-empty string, got {key!r}")
        if unit is not None and not isinstance(unit, str):
            raise JudgingError(f"{what} '{key}': unit must be a string or None, got {unit!r}")
        # an empty unit means "no unit": it conflicts with nobody
        out[key] = unit if unit else None
    return out


def assign(
    entries: Mapping[str, str | None],
    judges: Mapping[str, str | None],
    *,
    per_entry: int,
    seed: int = 0,
) -> Assignment:
    """Give every entry exactly per_entry judges outside its unit, balancing judge loads."""
    if isinstance(per_entry, bool) or not isinstance(per_entry, int) or per_entry < 1:
        raise JudgingError(f"per_entry must be a whole number >= 1, got {per_entry!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise JudgingError(f"seed must be a whole number, got {seed!r}")
    entry_unit = _check_ids(entries, "entry")
    judge_unit = _check_ids(judges, "judge")
    # Sorting first makes the result independent of the mappings' insertion order.
    entry_ids = sorted(entry_unit)
    judge_ids = sorted(judge_unit)
    rng = random.Random(seed)

    eligible_by_unit: dict[str | None, list[str]] = {}
    eligible: dict[str, list[str]] = {}
    for e in entry_ids:
        unit = entry_unit[e]
        if unit not in eligible_by_unit:
            eligible_by_unit[unit] = [j for j in judge_ids if unit is None or judge_unit[j] != unit]
        eligible[e] = eligible_by_unit[unit]

    unassignable = [Unassignable(e, len(eligible[e])) for e in entry_ids if len(eligible[e]) < per_entry]
    todo = [e for e in entry_ids if len(eligible[e]) >= per_entry]

    load = dict.fromkeys(judge_ids, 0)
    # dicts as ordered sets: set iteration order depends on PYTHONHASHSEED
    panel: dict[str, dict[str, None]] = {}
    work: dict[str, dict[str, None]] = {j: {} for j in judge_ids}
    tiebreak = {e: rng.random() for e in todo}
    for e in sorted(todo, key=lambda e: (len(eligible[e]), tiebreak[e])):
        picks = sorted(eligible[e], key=lambda j: (load[j], rng.random()))[:per_entry]
        panel[e] = dict.fromkeys(picks)
        for j in picks:
            load[j] += 1
            work[j][e] = None

    while _improve(judge_ids, load, panel, work, eligible):
        pass

    loads = {j: load[j] for j in judge_ids}
    balanced = not loads or max(loads.values()) - min(loads.values()) <= 1
    note = None
    if not balanced:
        note = "unit conflicts make loads within one impossible; this is the most even assignment the conflicts allow"
    pairs = sorted((e, j) for e, js in panel.items() for j in js)
    return Assignment(
        pairs=pairs,
        unassignable=unassignable,
        loads=loads,
        per_entry=per_entry,
        seed=seed,
        balanced=balanced,
        note=note,
    )


def _improve(
    judge_ids: list[str],
    load: dict[str, int],
    panel: dict[str, dict[str, None]],
    work: dict[str, dict[str, None]],
    eligible: dict[str, list[str]],
) -> bool:
    """Apply one load-evening chain of moves if one exists; False when loads are optimal."""
    levels = sorted(set(load.values()), reverse=True)
    if not levels:
        return False
    low = levels[-1]
    for level in levels:
        if level - low < 2:
            break
        sources = [j for j in judge_ids if load[j] >= level]
        parent: dict[str, tuple[str, str]] = {}
        seen = set(sources)
        queue = deque(sources)
        while queue:
            u = queue.popleft()
            for e in work[u]:
                for v in eligible[e]:
                    if v in seen or v in panel[e]:
                        continue
                    seen.add(v)
                    parent[v] = (u, e)
                    if load[v] <= level - 2:
                        _apply_chain(v, parent, load, panel, work)
                        return True
                    queue.append(v)
    return False


def _apply_chain(
    target: str,
    parent: dict[str, tuple[str, str]],
    load: dict[str, int],
    panel: dict[str, dict[str, None]],
    work: dict[str, dict[str, None]],
) -> None:
    moves = []
    v = target
    while v in parent:
        u, e = parent[v]
        moves.append((e, u, v))
        v = u
    source = v
    # apply from the source end, so each step sees the panel the search saw
    for e, giver, taker in reversed(moves):
        del panel[e][giver]
        del work[giver][e]
        panel[e][taker] = None
        work[taker][e] = None
    # every judge inside the chain gave one entry and took one
    load[source] -= 1
    load[target] += 1
