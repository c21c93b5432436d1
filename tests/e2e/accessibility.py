"""The accessibility gate: axe-core (vendored from npm into tests/e2e/vendor/axe-core/, never served to pages) checks a
page against WCAG 2.1 A and AA; any violation fails the test, with the rule, the elements and axe's advice."""

from __future__ import annotations

from pathlib import Path

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN = """async (tags) => {
  const result = await window.axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "").replace(/\\s+/g, " ")),
  }));
}"""


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it is now; returns its WCAG 2.1 A/AA violations (empty when none).

    The script is evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern,
    so the pages keep their `script-src 'self'` and need not know about the checker."""
    page.wait_for_load_state()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(_RUN, WCAG_21_AA)


def assert_accessible(page, where: str = "") -> None:
    """Fail on any WCAG 2.1 A/AA violation that axe-core finds on the page."""
    found = axe_violations(page)
    if found:
        lines = [f"{len(found)} accessibility violation(s) on {where or page.url}:"]
        for v in found:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
            lines.extend(f"    {node}" for node in v["nodes"])
        raise AssertionError("\n".join(lines))
