"""The pages of the journey, per audience: one list for the render check (tests/integration/test_pages.py) and the
accessibility gate (tests/e2e/test_accessibility.py), so that a page added here is checked by both."""

from __future__ import annotations


def journey_pages(*, contest: str, entry: int, rnd: int) -> dict[str | None, list[str]]:
    """Paths by audience (None: the public) for a contest slug, one of its entries and one of its rounds."""
    return {
        None: ["/", f"/c/{contest}", f"/c/{contest}/winners", "/login"],
        "member": [
            "/unit/",
            f"/unit/c/{contest}/entries/new",
            f"/unit/entries/{entry}",
            f"/unit/entries/{entry}/edit",
        ],
        "judge": ["/judge/"],
        "organiser": [
            "/org/",
            "/org/contests/new",
            f"/org/c/{contest}",
            f"/org/c/{contest}/edit",
            f"/org/c/{contest}/participation",
            "/org/units",
            "/org/accounts",
            f"/org/c/{contest}/rounds/new",
            f"/org/rounds/{rnd}",
            f"/org/rounds/{rnd}/results",
            f"/org/c/{contest}/audit",
        ],
    }
