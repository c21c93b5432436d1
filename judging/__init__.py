"""Contest judging: totals, rankings, panel agreement and judge assignment.

Pure Python + numpy/scipy; no I/O outside csvio and the CLI, no web framework imports.
"""

from .assignment import assign
from .errors import JudgingError
from .model import (
    METHODS,
    AgreementReport,
    Assignment,
    Criterion,
    EntryAgreement,
    RankedEntry,
    Score,
    Unassignable,
)
from .ranking import rank
from .reliability import agreement
from .table import judge_totals, validate_rubric, validate_scores

__all__ = [
    "METHODS",
    "AgreementReport",
    "Assignment",
    "Criterion",
    "EntryAgreement",
    "JudgingError",
    "RankedEntry",
    "Score",
    "Unassignable",
    "agreement",
    "assign",
    "judge_totals",
    "rank",
    "validate_rubric",
    "validate_scores",
]
