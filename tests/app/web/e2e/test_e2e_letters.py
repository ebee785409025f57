"""The letters page in real Chromium over the demo books, at a laptop's
1366 px and a phone's 390 px: finance staff open it from the menu, see the
receipts and overdue pledges with each State's language, write Belgium's
reminder (French) and download it - the file is the one whose SHA-256 the
page shows. Screenshots go to build/letters/ (git-ignored)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

SHOTS = Path(__file__).resolve().parents[4] / "build" / "letters"


@pytest.mark.parametrize("width", [1366, 390])
def test_letters_page(demo_server, browser, width):
    base, _ledger, accounts = demo_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=name]", "demo-finance")
    page.fill("input[name=password]", accounts["demo-finance"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/letters/")  # the menu link is checked below (on a phone the menu may wrap)
    page.wait_for_selector("h2#h-reminder")
    text = page.inner_text("body")
    for expected in ("Letters to States Parties", "Acknowledgements of receipts", "Reminders of overdue pledges",
                     "Belgium (BEL)", "French", "Spanish", "English"):
        assert expected in text
    assert page.locator("nav a[href='/letters/']").count() == 1

    row = page.locator("#h-reminder ~ table tr", has_text="Belgium (BEL)")
    row.locator("button[type=submit]").click()  # Write (or Write again)
    page.wait_for_selector("p.flash.ok")
    assert "1 letter written." in page.inner_text("p.flash.ok")
    row = page.locator("#h-reminder ~ table tr", has_text="Belgium (BEL)")
    sha = row.locator("code[title]").get_attribute("title")
    with page.expect_download() as caught:
        row.locator("a", has_text="Download PDF").click()
    download = caught.value
    content = Path(download.path()).read_bytes()
    assert download.suggested_filename.startswith("reminder-2026-BEL-") and download.suggested_filename.endswith("-fr.pdf")
    assert content.startswith(b"%PDF-") and hashlib.sha256(content).hexdigest() == sha

    page.wait_for_load_state("load")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow} px wider than the {width} px window"
    shot = SHOTS / f"letters-page-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
