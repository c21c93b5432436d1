"""The judging engine's words in plain language for organisers: tie-break rules, agreement measures and the engine's
notes. The engine (`judging/`) keeps its codes; only what people read is translated here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from wtforms import SelectChoice

TIE_BREAK_SLOTS = 3


def tie_break_choices(criterion_names: list[str]) -> list[SelectChoice]:
    """Choices of one tie-break slot: none, a criterion of the rubric (by row), the median, first places."""
    choices = [SelectChoice("", _l("— no further rule —"))]
    for index, name in enumerate(criterion_names):
        label = (
            _l("Higher score on the criterion “%(name)s”", name=name.strip())
            if name.strip()
            else _l("Higher score on criterion %(n)s of the rubric", n=index + 1)
        )
        choices.append(SelectChoice(f"row:{index}", label))
    choices.append(SelectChoice("median", TIE_BREAK_WORDS["median"]))
    choices.append(SelectChoice("first_places", TIE_BREAK_WORDS["first_places"]))
    return choices


TIE_BREAK_WORDS: dict[str, LazyString] = {
    "median": _l("Higher median of the judges' totals"),
    "first_places": _l("More judges placed it first"),
}


def tie_break_label(rule: str) -> str:
    """A stored rule (`criterion:Nội dung`, `median`, `first_places`) in plain words."""
    if rule.startswith("criterion:"):
        return str(_l("Higher score on the criterion “%(name)s”", name=rule[len("criterion:") :]))
    return str(TIE_BREAK_WORDS.get(rule, rule))


_SEPARATED = re.compile(r"^score tie with (?P<others>.+); separated by (?P<rule>.+) \((?P<value>[^()]*)\)$")
_STILL_TIED = re.compile(r"^still tied with (?P<others>.+) after .+$")
_NO_RULES = re.compile(r"^tied on score with (?P<others>.+); no tie-break rules given$")
_OTHERS = re.compile(r"^(?P<n>\d+) other entries$")


def _others(text: str) -> str:
    many = _OTHERS.match(text)
    if many:
        return str(_l("%(n)s other entries", n=many["n"]))
    return ", ".join(f"#{part.strip()}" for part in text.split(","))


def tie_break_note(note: str | None) -> str | None:
    """The engine's note on a tie (English, with rule codes) as a plain sentence; unknown notes pass unchanged."""
    if not note:
        return None
    if match := _SEPARATED.match(note):
        return str(
            _l(
                "Same score as %(others)s; placed by: %(rule)s (%(value)s).",
                others=_others(match["others"]),
                rule=tie_break_label(match["rule"]),
                value=match["value"],
            )
        )
    if match := _STILL_TIED.match(note):
        return str(_l("Still tied with %(others)s after every tie-break rule.", others=_others(match["others"])))
    if match := _NO_RULES.match(note):
        return str(_l("Same score as %(others)s; the round has no tie-break rule.", others=_others(match["others"])))
    return note


@dataclass(frozen=True)
class Measure:
    key: str
    name: LazyString
    sentence: LazyString


ICC_MEASURES = (
    Measure(
        "ICC1",
        _l("One judge, judges differing per entry"),
        _l("How far one judge's total can be trusted when each entry may have had other judges."),
    ),
    Measure(
        "ICC2",
        _l("One judge, same scale"),
        _l("How closely one judge's totals match the others', counting it against a judge who marks higher overall."),
    ),
    Measure(
        "ICC3",
        _l("One judge, same order"),
        _l("How consistently one judge orders the entries like the others, even if they mark higher or lower overall."),
    ),
    Measure(
        "ICC1k",
        _l("The panel's average, judges differing per entry"),
        _l("How far the average of the panel's totals can be trusted when each entry may have had other judges."),
    ),
    Measure(
        "ICC2k",
        _l("The panel's average, same scale"),
        _l("How far the panel's average totals would stay the same with another panel of as many judges."),
    ),
    Measure(
        "ICC3k",
        _l("The panel's average, same order"),
        _l("How far the order given by the panel's average would stay the same with these judges marking again."),
    ),
)


def verdict(value: float | None) -> LazyString | None:
    """A hint of what an agreement value means (Koo & Li 2016 for ICC; the same bands serve for Kendall's W)."""
    if value is None:
        return None
    if value >= 0.9:
        return _l("excellent")
    if value >= 0.75:
        return _l("good")
    if value >= 0.5:
        return _l("moderate: worth a discussion")
    return _l("poor: the judges do not agree")


AGREEMENT_NOTES: dict[str, LazyString] = {
    "kendall_w and ICCs need every judge to score every entry; the matrix is incomplete": _l(
        "Kendall's W and the ICCs need every judge to have scored every entry; some scores are missing."
    ),
    "kendall_w and ICCs need at least 2 entries and 2 judges": _l(
        "Kendall's W and the ICCs need at least 2 entries and 2 judges."
    ),
    "some statistics are undefined because the totals have no variance": _l(
        "Some measures cannot be computed because all totals are equal."
    ),
}


def agreement_note(note: str | None) -> str | None:
    """The engine's note on the agreement report, translated when known."""
    return str(AGREEMENT_NOTES[note]) if note in AGREEMENT_NOTES else note
