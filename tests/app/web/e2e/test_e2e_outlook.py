"""The funding outlook in real Chromium, over the demo books, at a laptop's
1366 px and a phone's 390 px: the Committee opens it from the reports page
and reads the secured share, the months and the scenarios without scrolling
sideways. Screenshots go to tests/app/web/e2e/screenshots/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.mark.parametrize("width", [1366, 390])
def test_outlook_page(demo_server, browser, width):
    base, _ledger, accounts = demo_server
    SHOTS.mkdir(exist_ok=True)
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=name]", "demo-committee")
    page.fill("input[name=password]", accounts["demo-committee"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/reports/")
    page.click("a[href='/reports/outlook?year=2026&format=html']")
    page.wait_for_selector("text=Share of the budget secured")
    text = page.inner_text("body")
    for expected in ("Funding outlook", "Every outstanding pledge is paid", "Nothing more is received",
                     "Each State pays as in the previous three years", "Cumulative 2025"):
        assert expected in text
    assert page.locator("svg").count() >= 1
    page.wait_for_load_state("load")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow} px wider than the {width} px window"
    shot = SHOTS / f"outlook-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
