"""The review queue in real Chromium: cards that fit a laptop's 1366 px and
a phone's 390 px without scrolling sideways, a State picked as you type its
French or Spanish name, the suggestion accepted in one click, a decision
undone - each screen checked by axe (no serious issue). Screenshots go to
build/screenshots/ (review-1366.png, review-390.png, review-*-refused.png,
review-search.png, review-accepted.png, review-undone.png)."""

from __future__ import annotations

from pathlib import Path

import pytest
from common.statements import camt053

SHOTS = Path(__file__).resolve().parents[4] / "build" / "screenshots"
RECEIPTS = [
    {"ref": "E-1", "date": "2025-07-10", "amount": "2000.00", "name": "ACME TRADING SARL", "text": "INVOICE 42"},
    {"ref": "E-2", "date": "2025-07-11", "amount": "3000.00", "name": "MINISTERE DES AFFAIRES ETRANGERES FRANCE",
     "text": "CONTRIBUTION ISU", "iban": "FR7630006000011234567890189"},
    {"ref": "E-3", "date": "2025-07-12", "amount": "4000.00", "name": "TESORO PUBLICO DE ESPANA", "text": "ISU 2025",
     "iban": "DE89370400440532013000"},
    {"ref": "E-4", "date": "2025-07-13", "amount": "1234567.89", "name": "A VERY LONG PAYER NAME WITHOUT ANY BREAK "
     "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "text": "GIFT", "iban": "CH9300762011623852957"},
]


@pytest.fixture
def books(server, tmp_path):
    """(base URL, {payer: item}) of the server's books with the receipts above imported."""
    from importers.importing import import_files
    from importers.review import list_items

    base, ledger = server
    path = tmp_path / "july.camt053.xml"
    path.write_text(camt053(RECEIPTS, opening=("2025-06-30", "100000.00"), ident="E-07"), encoding="utf-8")
    import_files(ledger, [path], user="test:import")
    return base, {i["payer"].split()[0]: i for i in list_items(ledger)}


def signed_in(browser, base: str, password: str, width: int):
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=name]", "finance")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/review/")
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)
    print(f"screenshot: {SHOTS / name}")


@pytest.mark.parametrize("width", [1366, 390])
def test_the_queue_fits_the_screen(books, browser, password, axe, width):
    """The queue, then after an accept (with "Recently resolved") and a refusal (the form again, as typed)."""
    base, items = books
    page = signed_in(browser, base, password, width)
    assert page.locator("ol.receipts li.receipt").count() == 4
    assert page.locator("text=Conflict:").count() == 1
    fits(page, width)
    shot(page, f"review-{width}.png")
    assert axe(page) == []

    page.get_by_role("button", name="Accept: France, work plan 2025").click()
    page.wait_for_selector("section.recent")
    spain = items["TESORO"]["id"]
    page.fill(f"input[name=sp-{spain}]", "Atlantis")
    page.locator(f"#item-{spain}").get_by_role("button", name="Resolve").click()
    page.wait_for_selector("#problem")
    assert page.inner_text("#problem") == (
        "2025-07-12, 4,000.00 CHF from TESORO PUBLICO DE ESPANA: No State Party or contributor is called 'Atlantis'.")
    assert page.input_value(f"input[name=sp-{spain}]") == "Atlantis"
    fits(page, width)
    shot(page, f"review-{width}-refused.png")
    assert axe(page) == []


def fits(page, width: int) -> None:
    page.wait_for_load_state("load")  # measured with the style sheets applied, not before
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"the review page is {wide} px wide in a {width} px window"


def test_pick_accept_and_undo(books, browser, password, axe):
    base, items = books
    page = signed_in(browser, base, password, 1366)
    acme, france, spain = items["ACME"], items["MINISTERE"], items["TESORO"]

    # The State by its Spanish name, as you type: the list offers Germany.
    field = page.locator(f"input[name=sp-{acme['id']}]")
    field.fill("")
    field.press_sequentially("Alema", delay=30)
    option = page.locator('#state-options option[value="Germany (DEU)"]')
    option.wait_for(state="attached")
    assert "Alemania" in option.inner_text()
    # ... and by its French name.
    field.fill("")
    field.press_sequentially("Autri", delay=30)
    option = page.locator('#state-options option[value="Austria (AUT)"]')
    option.wait_for(state="attached")
    assert "Autriche" in option.inner_text()
    shot(page, "review-search.png")
    field.fill(option.get_attribute("value"))  # what picking the offer puts in the box
    page.fill(f"input[name=year-{acme['id']}]", "2025")
    page.locator(f"#item-{acme['id']}").get_by_role("button", name="Resolve").click()
    page.wait_for_selector(".flash.ok")
    assert page.inner_text(".flash.ok") == "2025-07-10, 2,000.00 CHF from ACME TRADING SARL is booked to Austria, work plan 2025."

    # The conflict offers no one-click accept; the clear suggestion does.
    assert page.locator(f"#item-{spain['id']} button[name=accept]").count() == 0
    page.get_by_role("button", name="Accept: France, work plan 2025").click()
    # the page still shows the last decision's message until the new one replaces it
    page.wait_for_selector(".flash.ok:has-text('is booked to France')")
    assert "is booked to France, work plan 2025." in page.inner_text(".flash.ok")
    assert page.locator(f"#item-{france['id']}").count() == 0
    shot(page, "review-accepted.png")
    assert axe(page) == []

    # Undo: the receipt is back in the queue as the importer left it.
    label = "2025-07-11, 3,000.00 CHF from MINISTERE DES AFFAIRES ETRANGERES FRANCE"
    page.get_by_role("button", name=f"Undo: {label}").click()
    page.wait_for_selector(".flash.ok:has-text('Undone')")
    assert page.inner_text(".flash.ok") == f"Undone: {label} is back in the review queue."
    assert page.locator(f"#item-{france['id']} button[name=accept]").count() == 1
    shot(page, "review-undone.png")
    assert axe(page) == []
