"""Fava in a real browser (Debian's Chromium through Playwright; fixtures in
conftest.py), against the real ``isu-ledger serve``:

- a statement that carries script, opened by the auditor under /fava/,
  never runs: no request reaches the app's /api/, nothing is signed;
- Fava's pages work under their Content-Security-Policy: no violation in
  the console, the query runs, the editor loads its WebAssembly parser.
"""

from __future__ import annotations

import subprocess
from urllib.parse import urlencode, urlparse

import pytest
from common.hostile import SCRIPT, with_script

# Fava's pages an auditor uses (report name -> text the rendered page shows).
FAVA_PAGES = {
    "income_statement": "Income",
    "balance_sheet": "Assets",
    "trial_balance": "Assets",
    "journal": "ACME TRADING SARL",
    "documents": "july.camt053.xml",
    "statistics": "Postings per Account",
    "errors": "No errors",
    "options": "Fava options",
    "account/Assets:Bank:UBS:CHF": "ACME TRADING SARL",
    "help/": "Help pages",
}


def git_log(ledger) -> str:
    return subprocess.run(["git", "-C", str(ledger), "log", "--format=%H %s"], check=True, capture_output=True, text=True).stdout


def import_statement(page, base: str, path) -> None:
    """Finance uploads ``path`` and confirms the preview."""
    page.goto(f"{base}/import/")
    page.set_input_files("input[name=files]", str(path))
    page.click("text=Preview")
    page.click("text=Confirm and book")
    page.wait_for_selector(".flash.ok")


def fava_slug(page, base: str) -> str:
    page.goto(f"{base}/fava/")
    return urlparse(page.url).path.split("/")[2]


@pytest.fixture
def hostile_books(server, browser, log_in, password, july_statement, tmp_path):
    """The server's books after finance imported the July statement carrying
    script and closed 2025: a sign-off in the auditor's name would now commit."""
    base, ledger = server
    statement = tmp_path / "july.camt053.xml"
    statement.write_text(with_script(july_statement), encoding="utf-8")
    finance = log_in(browser, base, "finance", password)
    import_statement(finance, base, statement)
    finance.goto(f"{base}/year-end/")
    finance.select_option("form[action$='close'] select[name=year]", "2025")
    finance.click("text=Close year")
    assert "2025 closed" in finance.inner_text(".flash.ok")
    finance.context.close()
    (stored,) = (ledger / "documents").rglob("july.camt053.xml")
    assert SCRIPT.encode() in stored.read_bytes()  # archived as the bank sent it
    return base, ledger, stored


def test_a_statement_carrying_script_never_runs_for_the_auditor(hostile_books, browser, log_in, password):
    base, ledger, stored = hostile_books
    before = git_log(ledger)
    auditor = log_in(browser, base, "auditor", password)
    requests, downloads = [], []
    auditor.context.on("request", lambda r: requests.append(r.url))
    auditor.on("download", lambda d: downloads.append(d))
    slug = fava_slug(auditor, base)
    url = f"{base}/fava/{slug}/document/?" + urlencode({"filename": str(stored)})

    # Fava's documents page previews the statement as text.
    auditor.goto(f"{base}/fava/{slug}/documents/")
    auditor.click("text=july.camt053.xml")
    auditor.wait_for_selector("text=h:script")
    # Opened directly (as from a link in the journal) it is a download, never a page.
    try:
        auditor.goto(url)
    except Exception as exc:  # Playwright: a navigation that becomes a download is aborted
        assert "Download is starting" in str(exc) or "ERR_ABORTED" in str(exc), exc
    auditor.wait_for_timeout(2000)  # what a script would have sent has had time to leave

    called = [u for u in requests if urlparse(u).path.startswith("/api/")]
    assert not called, f"the statement's script ran: {called}"
    assert git_log(ledger) == before, "something was committed to the books"
    assert len(downloads) == 1 and downloads[0].suggested_filename == "july.camt053.xml"
    assert downloads[0].path().read_bytes() == stored.read_bytes()

    response = auditor.context.request.get(url)
    headers = response.headers
    print("document response headers:\n" + "\n".join(f"  {k}: {v}" for k, v in sorted(headers.items())))
    assert response.status == 200
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-disposition"].startswith("attachment;")
    csp = [d.strip() for d in headers["content-security-policy"].split(";")]
    assert "sandbox" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "same-origin"


def test_favas_pages_work_under_their_policy(server, browser, log_in, password, july_statement, tmp_path):
    base, _ledger = server
    statement = tmp_path / "july.camt053.xml"
    statement.write_text(july_statement, encoding="utf-8")
    import_statement(log_in(browser, base, "finance", password), base, statement)
    auditor = log_in(browser, base, "auditor", password)
    problems: list[str] = []
    auditor.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    auditor.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    slug = fava_slug(auditor, base)

    first = auditor.goto(f"{base}/fava/{slug}/income_statement/")
    headers = first.headers
    print("Fava page response headers:\n" + "\n".join(f"  {k}: {v}" for k, v in sorted(headers.items())))
    assert "style-src-elem 'self' 'unsafe-inline'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    for report, text in FAVA_PAGES.items():
        auditor.goto(f"{base}/fava/{slug}/{report}" + ("" if report.endswith("/") else "/"))
        auditor.wait_for_load_state("networkidle")
        assert text in auditor.inner_text("article"), report

    # The query page runs a query (its editor inserts <style> elements).
    auditor.goto(f"{base}/fava/{slug}/query/?" + urlencode({"query_string": "SELECT payee, position"}))
    auditor.wait_for_selector("article table")
    assert "ACME TRADING SARL" in auditor.inner_text("article table")
    # The editor parses the books with tree-sitter (WebAssembly): highlighted source.
    auditor.goto(f"{base}/fava/{slug}/editor/")
    auditor.wait_for_selector(".cm-content")
    auditor.wait_for_load_state("networkidle")
    assert "option" in auditor.inner_text(".cm-content")
    assert auditor.locator(".cm-content span[class]").count() > 0, "no syntax highlighting: the parser did not load"
    assert not problems, "\n".join(problems)
