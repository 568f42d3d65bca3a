"""axe-core on a driver page: `assert_accessible(page)` fails with what axe found, rule by rule.

axe-core's script comes bundled in PyPI's `axe-playwright-python` (the `test` extra), so a fresh
checkout or CI needs no npm. Every driver page's browser test may call it; the pages are listed
in `test_driver_pages_are_accessible.py`."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

_AXE = Axe()


def violations(page: Page) -> list[str]:
    """What axe-core finds on the page as it is now (WCAG 2.x A and AA and axe's best
    practices), one line per rule with the elements it concerns."""
    found: list[dict[str, Any]] = _AXE.run(page).response["violations"]
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at "
        + ", ".join(" ".join(node["target"]) for node in rule["nodes"])
        for rule in found
    ]


def assert_accessible(page: Page) -> None:
    found = violations(page)
    assert found == [], f"{page.url}: " + "; ".join(found)
