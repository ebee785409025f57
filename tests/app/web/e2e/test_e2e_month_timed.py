"""The month's job timed in the browser, as finance does it: log in, upload
the month's statement, preview, confirm, resolve the receipt nobody could
identify, download the annual report (PDF). Prints the seconds of each step
and the total (real ``isu-ledger serve``, Debian's Chromium); a figure for
the notes, not a timed assertion - each step is asserted to have worked."""

from __future__ import annotations

import time


class Steps:
    def __init__(self):
        self.times: list[tuple[str, float]] = []
        self._start = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.times.append((name, now - self._start))
        self._start = now

    def table(self) -> str:
        lines = [f"  {name:<44} {seconds:6.2f} s" for name, seconds in self.times]
        lines.append(f"  {'total':<44} {sum(s for _, s in self.times):6.2f} s")
        return "\n".join(lines)


def test_the_months_job_timed(password, july_statement, server, browser, tmp_path):
    base, _ledger = server
    statement = tmp_path / "ubs-isu-2025-07.camt053.xml"
    statement.write_text(july_statement, encoding="utf-8")
    page = browser.new_context(accept_downloads=True, viewport={"width": 1366, "height": 900}).new_page()
    steps = Steps()

    page.goto(f"{base}/login")
    page.fill("input[name=name]", "finance")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    steps.done("log in (dashboard shown)")

    page.click("nav >> text=Import")
    page.set_input_files("input[name=files]", str(statement))
    page.click("text=Preview")
    page.wait_for_selector("text=Confirm and book")
    assert "ACME TRADING SARL" in page.content()
    steps.done("upload the statement and preview it")

    page.click("text=Confirm and book")
    page.wait_for_selector(".flash.ok")
    assert "Booked" in page.inner_text(".flash.ok")
    steps.done("confirm and book")

    page.click("nav >> text=Review")
    row = page.locator("ol.receipts li.receipt").first
    item = row.get_attribute("id").removeprefix("item-")
    page.fill(f"input[name=sp-{item}]", "CHE")
    page.fill(f"input[name=year-{item}]", "2025")
    row.locator("button", has_text="Resolve").click()
    page.wait_for_selector(".flash.ok")
    assert f"item-{item}" not in page.content()
    steps.done("resolve the review item")

    page.click("nav >> text=Reports")
    with page.expect_download() as info:
        page.click("a[href='/reports/annual?year=2025&format=pdf']")
    pdf = tmp_path / "annual.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    steps.done("download the annual report (PDF)")
    print("The month's job in the browser (seconds per step):\n" + steps.table())
