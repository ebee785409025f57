"""End to end in a real browser (Debian's Chromium through Playwright):

finance logs in, uploads a statement, confirms the preview, resolves the
review item, downloads the annual PDF; the auditor opens Fava; the
Committee is refused Fava. The server is the real ``isu-ledger serve`` in a
subprocess. Screenshots of the dashboard, the review queue and a report go
to tests/e2e/screenshots/ (git-ignored); their paths are printed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (CI installs Debian's chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(password, tmp_path, database_url):
    from app.web.db import open_database
    from app.web.users import add_user
    from ledger.books import init_ledger

    ledger = init_ledger(tmp_path / "books", opening_balance="100000.00", as_of="2025-06-30", user="test:init").ledger_dir
    with open_database(database_url)() as s:
        for role in ("finance", "auditor", "committee"):
            add_user(s, role, role, password, f"{role.title()} Tester")
        s.commit()
    port = free_port()
    env = {**os.environ, "ISU_DATABASE_URL": database_url, "ISU_SECRET_KEY": "e2e-" + "k" * 40}
    exe = Path(sys.executable).with_name("isu-ledger")
    proc = subprocess.Popen([str(exe), "--ledger", str(ledger), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("server did not start: " + proc.stdout.read().decode(errors="replace"))
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", ledger
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def browser():
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def log_in(browser, base: str, name: str, password: str):
    page = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def test_the_monthly_job_in_a_browser(password, july_statement, server, browser, tmp_path):
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
    row = page.locator("table.review tbody tr").first
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
