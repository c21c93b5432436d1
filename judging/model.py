"""Frozen dataclasses that go in and come out of the judging package."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

# Order matters: it is the order shown in --help and error messages.
METHODS = ("mean", "median", "trimmed_mean", "zscore", "borda")

# Scores and tie-break values are compared after rounding to this many decimals,
# so float noise (0.1 + 0.2 != 0.3) can neither create nor break a tie.
DECIMALS = 9


@dataclass(frozen=True, slots=True)
class Criterion:
    """One rubric line: points go from 0 to max_points, in multiples of step if set."""

    name: str
    max_points: float
    weight: float = 1.0
    step: float | None = None


@dataclass(frozen=True, slots=True)
class Score:
    """Points one judge gave one entry on one criterion."""

    entry: str
    judge: str
    criterion: str
    points: float


@dataclass(frozen=True, slots=True)
class RankedEntry:
    """One line of a ranking."""

    entry: str
    rank: int
    score: float
    tied: bool
    judges: int
    totals: dict[str, float] = field(default_factory=dict)
    tie_break: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form of this line (its fields, in their order)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class EntryAgreement:
    """Spread of one entry's judge totals; sd is the population sd (ddof=0)."""

    entry: str
    judges: int
    mean: float
    sd: float
    range: float
    flag: bool

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form of this line (its fields, in their order)."""
        return asdict(self)


@dataclass(frozen=True)
class AgreementReport:
    """Panel agreement: Kendall's W, Shrout & Fleiss ICCs and per-entry spread."""

    kendall_w: float | None
    icc: dict[str, float | None]
    per_entry: list[EntryAgreement]
    threshold: float
    max_total: float
    entries: int
    judges: int
    complete: bool
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form of the report."""
        return {
            "kendall_w": self.kendall_w,
            "icc": dict(self.icc),
            "entries": self.entries,
            "judges": self.judges,
            "complete": self.complete,
            "threshold": self.threshold,
            "max_total": self.max_total,
            "note": self.note,
            "per_entry": [row.as_dict() for row in self.per_entry],
        }


class Unassignable(NamedTuple):
    """An entry that has fewer eligible judges than it needs."""

    entry: str
    eligible: int


@dataclass(frozen=True)
class Assignment:
    """Result of assign(): pairs made, entries left out, and judge loads."""

    pairs: list[tuple[str, str]]
    unassignable: list[Unassignable]
    loads: dict[str, int]
    per_entry: int
    seed: int
    balanced: bool
    note: str | None = None

    def reason(self, item: Unassignable) -> str:
        """Human explanation of why an entry could not be assigned."""
        noun = "judge" if item.eligible == 1 else "judges"
        return (
            f"only {item.eligible} eligible {noun} (needs {self.per_entry}); "
            "judges of the entry's own unit are excluded"
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form of the assignment."""
        return {
            "per_entry": self.per_entry,
            "seed": self.seed,
            "balanced": self.balanced,
            "note": self.note,
            "pairs": [{"entry": e, "judge": j} for e, j in self.pairs],
            "unassignable": [
                {"entry": u.entry, "eligible": u.eligible, "reason": self.reason(u)} for u in self.unassignable
            ],
            "loads": dict(self.loads),
        }
