"""The rejection catalogue: every code the pipeline can raise carries its declared parameters, and the web app has a
formatted, translatable sentence for it."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from app.clip_reasons import N_, REASONS, english_reason
from media_worker.pipeline import Rejected
from media_worker.reasons import INFRASTRUCTURE_UNAVAILABLE, PROCESSING_FAILED, REJECTION_CODES, REJECTION_PARAMS

SAMPLE_PARAMS = {
    "format": "FLV",
    "codec": "FFV1",
    "duration": "2:05",
    "min": "0:30",
    "max": "2:00",
    "size": "4160×64",
    "max_side": 4096,
    "max_mpx": "8.9",
    "fps": "0.5",
}
PIPELINE = Path(__file__).resolve().parents[3] / "media_worker"


def _sample(code: str) -> dict[str, object]:
    return {k: SAMPLE_PARAMS[k] for k in REJECTION_PARAMS[code]}


def test_marker_is_identity():
    assert N_("x") == "x"


@pytest.mark.parametrize("code", sorted(REJECTION_CODES))
def test_every_code_formats_into_a_sentence(code):
    exc = Rejected(code, **_sample(code))
    assert exc.code == code and code in str(exc)
    sentence = english_reason(exc.code, exc.params)
    assert "%(" not in sentence and sentence.endswith(".") and sentence[0].isupper()
    assert set(re.findall(r"%\((\w+)\)", REASONS[code])) == REJECTION_PARAMS[code]
    assert re.fullmatch(r"[a-z_]+", code)


def test_the_web_app_words_every_code_and_nothing_else():
    assert set(REASONS) == REJECTION_CODES | {PROCESSING_FAILED, INFRASTRUCTURE_UNAVAILABLE}


def test_the_pipeline_holds_no_sentences():
    source = (PIPELINE / "reasons.py").read_text()
    assert "N_(" not in source and "accepted" not in source


def test_every_code_raised_in_the_pipeline_is_catalogued():
    raised = set()
    for module in PIPELINE.glob("pipeline*.py"):
        raised |= set(re.findall(r'Rejected\(\s*"([a-z_]+)"', module.read_text()))
    assert raised and raised <= REJECTION_CODES
    # And nothing catalogued is dead.
    assert raised >= REJECTION_CODES


def test_unknown_code_is_a_programming_error():
    with pytest.raises(ValueError):
        Rejected("nope")


def test_missing_or_extra_parameters_are_a_programming_error():
    with pytest.raises(ValueError):
        Rejected("too_long", duration="2:05")
    with pytest.raises(ValueError):
        Rejected("empty_file", size="1×1")


def test_rejected_survives_pickling_for_rq():
    exc = pickle.loads(pickle.dumps(Rejected("too_long", duration="2:05", max="2:00")))
    assert (exc.code, exc.params) == ("too_long", {"duration": "2:05", "max": "2:00"})
    assert "2:05" in english_reason(exc.code, exc.params)


def test_processing_failed_exists_for_the_job_wrapper_but_is_not_a_rejection():
    assert PROCESSING_FAILED in REASONS and PROCESSING_FAILED not in REJECTION_CODES
    with pytest.raises(ValueError):
        Rejected(PROCESSING_FAILED)


def test_a_combined_rejection_survives_pickling_with_every_rule():
    combined = Rejected.combine(
        [Rejected("too_short", duration="0:03", min="2:00"), Rejected("resolution_too_low", size="426×240", min=720)]
    )
    exc = pickle.loads(pickle.dumps(combined))
    assert exc.rejections == [
        ("too_short", {"duration": "0:03", "min": "2:00"}),
        ("resolution_too_low", {"size": "426×240", "min": 720}),
    ]
    assert (exc.code, str(exc)) == (
        "too_short",
        "too_short (duration=0:03, min=2:00); resolution_too_low (min=720, size=426×240)",
    )
