"""End to end in a real browser (Debian's Chromium through Playwright):

finance logs in, uploads a statement, confirms the preview, resolves the
review item, downloads the annual PDF; the auditor opens Fava; the
Committee is refused Fava. The server is the real ``isu-ledger serve`` in a
subprocess (fixtures in conftest.py). Screenshots of the dashboard, the
review queue and a report go to tests/e2e/screenshots/ (git-ignored); their
paths are printed.
"""

from __future__ import annotations

from pathlib import Path

SHOTS = Path(__file__).resolve().parent / "screenshots"


def test_the_monthly_job_in_a_browser(password, july_statement, server, browser, log_in, tmp_path):
    base, _ledger = server
    SHOTS.mkdir(exist_ok=True)
    statement = tmp_path / "ubs-isu-2025-07.camt053.xml"
    statement.write_text(july_statement, encoding="utf-8")

    # Finance: upload -> preview (with the why) -> confirm.
    page = log_in(browser, base, "finance", password)
    page.click("text=Import")
    page.set_input_files("input[name=files]", str(statement))
    page.click("text=Preview")
    page.wait_for_selector("text=Confirm and book")
    assert page.locator("table.preview tr.review").count() == 1
    assert "ACME TRADING SARL" in page.content()
    page.click("text=Confirm and book")
    page.wait_for_selector(".flash.ok")
    assert "Booked" in page.inner_text(".flash.ok")

    # The review queue: resolve the receipt nobody could identify.
    page.click("nav >> text=Review")
    row = page.locator("ol.receipts li.receipt").first
    item = row.get_attribute("id").removeprefix("item-")
    page.fill(f"input[name=sp-{item}]", "CHE")
    page.fill(f"input[name=year-{item}]", "2025")
    page.screenshot(path=str(SHOTS / "review-queue.png"), full_page=True)
    row.locator("button", has_text="Resolve").click()
    page.wait_for_selector(".flash.ok")
    assert f"item-{item}" not in page.content()

    # The dashboard, then the annual report: HTML preview and PDF download.
    page.goto(f"{base}/?year=2025")
    page.wait_for_selector("svg")
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    page.goto(f"{base}/reports/annual?year=2025&format=html")
    page.screenshot(path=str(SHOTS / "report-annual.png"), full_page=True)
    page.goto(f"{base}/reports/")
    with page.expect_download() as info:
        page.click("a[href='/reports/annual?year=2025&format=pdf']")
    pdf = tmp_path / "annual.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    # The auditor opens Fava; the Committee is refused.
    auditor = log_in(browser, base, "auditor", password)
    auditor.goto(f"{base}/fava/")
    auditor.wait_for_load_state()
    assert "/fava/" in auditor.url and "ISU" in auditor.title() + auditor.content()
    committee = log_in(browser, base, "committee", password)
    response = committee.goto(f"{base}/fava/")
    assert response.status == 403
    for shot in ("dashboard.png", "review-queue.png", "report-annual.png"):
        print(f"screenshot: {SHOTS / shot}")
