"""The rejection catalogue: every code the pipeline can raise has a formatted, translatable sentence."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from media_worker.pipeline import Rejected
from media_worker.reasons import N_, REASONS, REJECTION_CODES

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


def test_marker_is_identity():
    assert N_("x") == "x"


@pytest.mark.parametrize("code", sorted(REJECTION_CODES))
def test_every_code_formats_into_a_sentence(code):
    exc = Rejected(code, **{k: v for k, v in SAMPLE_PARAMS.items() if f"%({k})" in REASONS[code]})
    assert exc.code == code and exc.message == str(exc)
    assert "%(" not in exc.message and exc.message.endswith(".") and exc.message[0].isupper()
    assert re.fullmatch(r"[a-z_]+", code)


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


def test_rejected_survives_pickling_for_rq():
    exc = pickle.loads(pickle.dumps(Rejected("too_long", duration="2:05", max="2:00")))
    assert (exc.code, exc.params) == ("too_long", {"duration": "2:05", "max": "2:00"})
    assert "2:05" in exc.message


def test_processing_failed_exists_for_the_job_wrapper_but_is_not_a_rejection():
    assert "processing_failed" in REASONS and "processing_failed" not in REJECTION_CODES
