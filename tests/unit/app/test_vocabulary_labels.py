"""Every domain vocabulary has a translated label for every member, in vi and in en."""

from __future__ import annotations

import enum
import inspect
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

import judging
from app.labels import LABELS, choices, label
from app.models import enums
from app.models.enums import AggregationMethod, Role, UnitKind

TRANSLATIONS = Path(__file__).resolve().parents[3] / "app" / "translations"
VOCABULARIES = [
    obj
    for _, obj in inspect.getmembers(enums, inspect.isclass)
    if issubclass(obj, enum.Enum) and obj.__module__ == enums.__name__
]
MEMBERS = [member for vocabulary in VOCABULARIES for member in vocabulary]


def _msgid(member: enum.Enum) -> str:
    return str(label(member))  # outside an app context a lazy string reads as its (English) message id


def test_every_vocabulary_is_in_the_table():
    assert len(VOCABULARIES) >= 9
    assert set(LABELS) == set(VOCABULARIES)


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: f"{type(m).__name__}.{m.name}")
def test_every_member_has_a_label(member):
    assert _msgid(member).strip()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_label_is_translated(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    untranslated = []
    for member in MEMBERS:
        message = catalog.get(_msgid(member))
        if message is None or not message.string or message.fuzzy:
            untranslated.append(f"{type(member).__name__}.{member.name}: {_msgid(member)!r}")
    assert not untranslated, f"{lang}: no translation for {untranslated} (run devtools/i18n.sh, fill in msgstr)"


def test_vietnamese_labels_are_vietnamese():
    vi = Translations.load(str(TRANSLATIONS), ["vi"])
    assert vi.gettext(_msgid(UnitKind.WARD)) == "Phường"
    differ = [m for m in MEMBERS if vi.gettext(_msgid(m)) != _msgid(m)]
    assert len(differ) > len(MEMBERS) * 0.8  # a few labels are names that read the same (e.g. "Borda")


def test_aggregation_methods_are_the_judging_librarys():
    assert [m.value for m in AggregationMethod] == list(judging.METHODS)


def test_choices_keep_definition_order_and_can_be_restricted():
    assert [c.value for c in choices(UnitKind)] == [k.value for k in UnitKind]
    assert [c.value for c in choices(Role, [Role.UNIT, Role.JUDGE])] == ["unit", "judge"]
    assert choices(Role, [Role.JUDGE])[0].label is LABELS[Role][Role.JUDGE]


def test_labels_index_by_member_or_value():
    assert LABELS[UnitKind]["school"] is LABELS[UnitKind][UnitKind.SCHOOL]
