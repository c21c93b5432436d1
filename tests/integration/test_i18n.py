"""Every user-facing string is translatable; the vi and en catalogs are complete and up to date."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from tests.conftest import ROOT

TRANSLATIONS = ROOT / "app" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdfr]|%[sdf%]")


def _catalog(path):
    with open(path, "rb") as fh:
        return read_po(fh)


@pytest.fixture(scope="module")
def fresh_pot(tmp_path_factory):
    out = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "-k",
            "lazy_gettext",
            "-o",
            str(out),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return _catalog(out)


def test_committed_template_is_up_to_date(fresh_pot):
    committed = {m.id for m in _catalog(TRANSLATIONS / "messages.pot") if m.id}
    fresh = {m.id for m in fresh_pot if m.id}
    missing = fresh - committed
    assert not missing, f"run devtools/i18n.sh: {len(missing)} new strings, e.g. {sorted(map(str, missing))[:5]}"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_catalog_is_complete_with_matching_placeholders(lang, fresh_pot):
    catalog = _catalog(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po")
    by_id = {m.id: m for m in catalog if m.id}
    problems = []
    for message in fresh_pot:
        if not message.id:
            continue
        translated = by_id.get(message.id)
        strings = translated.string if translated else None
        strings = strings if isinstance(strings, tuple) else (strings,)
        if not translated or not all(strings):
            problems.append(f"untranslated: {message.id!r}")
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        for s in strings:
            if sorted(PLACEHOLDER.findall(s)) != sorted(PLACEHOLDER.findall(source)):
                problems.append(f"placeholders differ: {source!r} -> {s!r}")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.database_only
def test_vietnamese_by_default_english_on_request(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="vi"' in page and "Đăng nhập" in page
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page and "Log in" in page
    # The choice sticks for the session.
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)


@pytest.mark.database_only
def test_language_switch_form(browser):
    resp = browser.post("/language/en", data={"next": "/login"})
    assert resp.status_code == 302 and resp.location == "/login"
    assert 'lang="en"' in browser.get("/login").get_data(as_text=True)
    browser.post("/language/vi", data={"next": "//evil.example"})
    assert 'lang="vi"' in browser.get("/login").get_data(as_text=True)
