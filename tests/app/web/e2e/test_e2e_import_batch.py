"""The import side of finance's month in real Chromium, at a laptop's 1366 px
and a phone's 390 px: the preview is the exact booking (every entry signed,
bank charges included, FX, totals, the balance proof with its tick), a
booked import is undone after a confirmation step, and the pledge and budget
templates go down and back up unchanged. No page scrolls sideways, axe finds
nothing serious; screenshots go to build/screenshots/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest
from common.statements import GERMANY, camt053

SHOTS = Path(__file__).resolve().parents[4] / "build" / "screenshots"

# July with a receipt in euros and the bank's charges, continuing the test ledger's opening balance.
JULY = camt053(
    [
        {"ref": "E2E-0701", "date": "2025-07-03", "amount": "9412.50", **GERMANY, "text": "ISU 2025 CORE WORK PLAN",
         "instructed": ("10000.00", "EUR", "0.94125")},
        {"ref": "E2E-0702", "date": "2025-07-10", "amount": "2000.00", "name": "ACME TRADING SARL", "text": "INVOICE 42"},
        {"ref": "E2E-0703", "date": "2025-07-31", "amount": "-35.40", "name": "UBS SWITZERLAND AG", "text": "ACCOUNT CHARGES"},
    ],
    opening=("2025-06-30", "100000.00"),
    ident="S-2025-07",
)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def fits(page, width: int) -> None:
    page.wait_for_load_state("load")  # measured with the style sheets applied, not before
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url}: {scroll} px wide in a {width} px window"


@pytest.mark.parametrize("width", [1366, 390])
def test_preview_confirm_and_undo_an_import(server, browser, log_in, axe, password, tmp_path, width):
    base, ledger = server
    statement = tmp_path / "ubs-2025-07.camt053.xml"
    statement.write_text(JULY, encoding="utf-8")
    page = log_in(browser, base, "finance", password)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base}/import/")
    page.set_input_files("input[name=files]", str(statement))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("text=Confirm and book")

    # The preview: every entry signed, the charges too; FX; totals; the proof ticked.
    bookings = page.locator("table.bookings tbody tr")
    assert bookings.count() == 3
    charges = page.locator("table.bookings tbody tr", has_text="UBS SWITZERLAND AG")
    assert "-35.40" in charges.inner_text()
    assert "10000.00 EUR at 0.94125" in page.locator("table.bookings").inner_text()
    totals = page.locator("table.bookings tfoot").inner_text()
    assert "11,412.50" in totals and "-35.40" in totals and "11,377.10" in totals
    assert "✓ 100,000.00 + 11,377.10 = 111,377.10" in page.locator("table.proofs").inner_text()
    date_cell = page.locator("table.bookings td.date").first
    assert date_cell.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    lines = "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length; }"
    assert date_cell.evaluate(lines) == 1  # one line box: the date never wraps
    fits(page, width)
    assert axe(page) == []
    shot(page, f"import-preview-{width}.png")

    page.get_by_role("button", name="Confirm and book").click()
    page.wait_for_selector(".flash.ok")
    booked = page.url
    page.get_by_role("link", name="Undo this import…").click()
    page.wait_for_selector("text=Undoing takes every entry this import booked")
    fits(page, width)
    assert axe(page) == []
    shot(page, f"import-undo-confirm-{width}.png")

    page.get_by_role("button", name="Undo this import").click()
    page.wait_for_url(booked)
    assert "undone: its entries were taken out of the books" in page.locator(".flash.ok").inner_text()
    assert "Undo this import" not in page.content()
    assert "E2E-0701" not in (ledger / "txns/2025.beancount").read_text(encoding="utf-8")
    fits(page, width)
    assert axe(page) == []
    shot(page, f"import-undo-{width}.png")

    # The same file imports again, to the same entries.
    page.goto(f"{base}/import/")
    page.set_input_files("input[name=files]", str(statement))
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Confirm and book").click()
    page.wait_for_selector(".flash.ok")
    assert "Booked 3 entries" in page.locator(".flash.ok").inner_text()
    assert "E2E-0701" in (ledger / "txns/2025.beancount").read_text(encoding="utf-8")


def test_an_undo_the_books_refuse_says_why_and_offers_no_button(server, browser, log_in, axe, password, tmp_path):
    base, _ledger = server
    july = tmp_path / "july.xml"
    july.write_text(JULY, encoding="utf-8")
    august = tmp_path / "august.xml"
    august.write_text(camt053([{"ref": "E2E-0801", "date": "2025-08-05", "amount": "1500.00", "name": "J DOE", "text": "GIFT"}],
                              opening=("2025-07-31", "111377.10"), ident="S-2025-08"), encoding="utf-8")
    page = log_in(browser, base, "finance", password)
    page.set_viewport_size({"width": 390, "height": 900})
    for path in (july, august):
        page.goto(f"{base}/import/")
        page.set_input_files("input[name=files]", str(path))
        page.get_by_role("button", name="Preview").click()
        page.get_by_role("button", name="Confirm and book").click()
        page.wait_for_selector(".flash.ok")
    page.goto(f"{base}/import/")
    page.locator("table tbody tr", has_text="july.xml").get_by_role("link", name="Undo this import…").click()
    refusal = page.locator(".flash.error").inner_text()
    assert "continues from its closing balance; undo that first" in refusal and "august.xml" in refusal
    assert page.get_by_role("button", name="Undo this import").count() == 0
    fits(page, 390)
    assert axe(page) == []
    shot(page, "import-undo-refused-390.png")


@pytest.mark.parametrize("kind, form, width", [("pledges", "pledges", 1366), ("budget", "budget", 1366), ("pledges", "pledges", 390)])
def test_a_template_downloaded_and_uploaded_back_unchanged_is_accepted(demo_server, browser, log_in, axe, tmp_path, kind, form, width):
    """The demo books have signed-off years: their rows come back as they were, and nothing is written."""
    from ledger.store import gitrepo

    base, ledger, accounts = demo_server
    before = gitrepo.head(ledger)
    page = log_in(browser, base, "demo-finance", accounts["demo-finance"])
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base}/uploads/")
    with page.expect_download() as info:
        page.click(f"a[href='/uploads/template/{kind}']")
    workbook = tmp_path / f"{kind}.xlsx"
    info.value.save_as(workbook)
    section = page.locator(f"form[action='/uploads/{form}']")
    section.locator("input[name=file]").set_input_files(str(workbook))
    section.get_by_role("button", name="Upload").click()
    page.wait_for_selector(".flash")
    message = page.locator(".flash").first.inner_text()
    assert page.locator(".flash.error").count() == 0, message
    assert "unchanged" in message and "signed off" not in message
    assert gitrepo.head(ledger) == before  # a no-op: nothing to record
    fits(page, width)
    assert axe(page) == []
    shot(page, f"template-round-trip-{kind}-{width}.png")
