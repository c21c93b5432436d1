"""The uploader's speed and time-left meter (app/static/js/upload_rate.js), run in Node.js as the browser runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "app/static/js/upload_rate.js"
NODE = shutil.which("node") or shutil.which("nodejs")

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is installed by `make setup` for the JavaScript gates")


def _run(body: str):
    """Load the browser script into a fresh context with a `window`, run body, return what it prints as JSON."""
    program = f"""
const vm = require("vm"), fs = require("fs");
const window = {{}};
vm.runInNewContext(fs.readFileSync({json.dumps(str(SCRIPT))}, "utf8"), {{ window, Intl }});
const {{ RateMeter, formatBytes, formatDuration }} = window.PortalUploadRate;
const out = (() => {{ {body} }})();
process.stdout.write(JSON.stringify(out));
"""
    done = subprocess.run([NODE, "-e", program], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_speed_is_steady_across_an_offline_gap():
    """1 MB/s, then 30 s without progress (offline), then 1 MB/s again: no jump, no average over the gap."""
    rates = _run(
        """
        const m = new RateMeter(), MB = 1024 * 1024, seen = [];
        for (let t = 0; t <= 5000; t += 500) m.add(t, (t / 1000) * MB);
        seen.push(m.rate());
        m.reset();                          // offline: the uploader forgets what was measured...
        m.reset();                          // ...and does so again when the connection is back, 30 s later
        m.add(35000, 5.5 * MB);             // first progress after the gap: measured afresh
        seen.push(m.rate());
        for (let t = 35500; t <= 38000; t += 500) m.add(t, 5.5 * MB + ((t - 35000) / 1000) * MB);
        seen.push(m.rate());
        return seen.map((r) => (r === null ? null : Math.round(r / 1024)));
        """
    )
    assert rates == [1024, None, 1024]


def test_parts_sent_again_restart_the_measurement():
    rates = _run(
        """
        const m = new RateMeter();
        m.add(0, 0); m.add(2000, 4000000);
        const before = m.rate();
        m.add(2500, 1000000);               // a failed part is counted out again
        return [before, m.rate()];
        """
    )
    assert rates == [2000000, None]


def test_coarse_progress_still_gives_a_speed():
    """Some browsers report upload progress only when a part is done: two reports 4 s apart are enough."""
    assert _run("const m = new RateMeter(); m.add(0, 0); m.add(4000, 16 * 1024 * 1024); return m.rate();") == 4194304


def test_no_time_left_when_nothing_is_left():
    left = _run(
        """
        const m = new RateMeter();
        m.add(0, 0);
        const atStart = m.secondsLeft(4000000);  // 0 B sent: no speed yet, so no "0 s left"
        m.add(2000, 2000000);
        const before = m.secondsLeft(4000000);
        m.add(4000, 4000000);
        return [atStart, before, m.secondsLeft(4000000)];
        """
    )
    assert left == [None, 2, None]


def test_bytes_and_durations_in_the_page_language():
    text = _run(
        """
        return [formatBytes(1.5 * 1024 * 1024, "vi"), formatBytes(1.5 * 1024 * 1024, "en"), formatBytes(12, "vi"),
                formatDuration(40, "en"), formatDuration(130, "en")];
        """
    )
    assert text == ["1,5 MB", "1.5 MB", "12 B", "40 seconds", "3 minutes"]
