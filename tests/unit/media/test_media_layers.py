"""The pure-pipeline import contract (.importlinter, checked by lint-imports) covers every pipeline module, new ones
included."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _contract(name: str) -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config[f"importlinter:contract:{name}"]


def test_every_pipeline_module_is_held_to_the_pure_pipeline_contract():
    listed = set(_contract("pipeline-is-pure")["source_modules"].split())
    modules = {f"media_worker.{p.stem}" for p in (ROOT / "media_worker").glob("pipeline*.py")}
    assert modules and modules | {"media_worker.sandbox", "media_worker.reasons"} == listed
    assert "app" in _contract("pipeline-is-pure")["forbidden_modules"].split()
