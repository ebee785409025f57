"""Fava at /fava/ held to the app's rules (app/web/fava_mount.py): the app's
security headers on every response, stored bank files served only as
downloads a browser never runs, Fava's errors as our error pages with a 4xx
status, HEAD answered like GET, query downloads that hold no formula, and a
crawl of every Fava route as each role that finds no 500.

The books are the app tests' ledger plus an August statement written by a
hostile payer: an XHTML script element the camt parser ignores, and payer
names that are spreadsheet formulas.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest
from common.hostile import FORMULAS, with_script
from common.statements import camt053


def hostile_statement() -> str:
    """A valid camt.053 statement for August 2025 whose payers are formulas and
    which carries a script element in a namespace the parser ignores."""
    entries = [
        {"ref": f"EVIL-{n}", "date": "2025-08-0" + str(n + 1), "amount": "10.00", "name": name, "text": "GIFT"}
        for n, name in enumerate(FORMULAS)
    ]
    text = camt053(entries, opening=("2025-07-31", "107000.00"), ident="S-2025-08")
    return with_script(text)


@pytest.fixture(scope="module")
def hostile_books(tmp_path_factory, ledger_template):
    """The app tests' ledger with the hostile August statement imported (the
    real import), built once for this module."""
    from importers.importing import import_files

    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(ledger_template, root / "books", ignore=shutil.ignore_patterns("*.sqlite3", ".isu-secret"))
    path = root / "hostile.camt053.xml"
    path.write_text(hostile_statement(), encoding="utf-8")
    import_files(root / "books", [path], user="test:import")
    return root / "books"


@pytest.fixture
def books(tmp_path, hostile_books):
    """A private copy of those books (a git repository like any other)."""
    shutil.copytree(hostile_books, tmp_path / "books")
    return tmp_path / "books"


@pytest.fixture
def served(make_app, add_users, books, database_url):
    application = make_app(books, database_url, wsgi=True)
    add_users(application)
    return application


@pytest.fixture
def auditor(served, logged_in):
    return logged_in(served, "auditor")


@pytest.fixture
def slug(auditor) -> str:
    return auditor.get("/fava/").headers["Location"].split("/")[2]


def document_path(books) -> str:
    (path,) = (p for p in (books / "documents").rglob("*.xml") if b"h:script" in p.read_bytes())
    return str(path)


def assert_security_headers(response, *, cacheable: bool = False) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, csp
    assert "unsafe-inline" not in csp.split("script-src")[-1].split(";")[0], csp
    assert h.get("X-Frame-Options") == "DENY"
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("Referrer-Policy") == "same-origin"
    if not cacheable:
        assert h.get("Cache-Control") == "no-store", h.get("Cache-Control")


def assert_error_page(response, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    assert "Back to the dashboard" in response.get_data(as_text=True)


def assert_json_error(response, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["status"] == status and "\n" not in body["error"] and "Traceback" not in body["error"]


# --- headers ------------------------------------------------------------------


def test_fava_pages_and_api_carry_the_app_security_headers(auditor, slug):
    for path in (f"/fava/{slug}/income_statement/", f"/fava/{slug}/api/ledger_data", "/fava/"):
        r = auditor.get(path)
        assert r.status_code in (200, 302), path
        assert_security_headers(r)
    csp = auditor.get(f"/fava/{slug}/journal/").headers["Content-Security-Policy"]
    # Fava's own needs, and nothing more: inserted <style> elements, WebAssembly.
    assert "style-src-elem 'self' 'unsafe-inline'" in csp and "script-src 'self' 'wasm-unsafe-eval'" in csp
    assert "'unsafe-eval'" not in csp.replace("'wasm-unsafe-eval'", "")
    # Fava's static files may be cached, as the app's are; they still carry the rest.
    assert_security_headers(auditor.get("/fava/static/app.css"), cacheable=True)


def test_the_guards_own_answers_carry_them_too(served, logged_in, slug):
    assert_security_headers(served.test_client().get(f"/fava/{slug}/journal/"))  # to the login page
    committee = logged_in(served, "committee")
    refused = committee.get("/fava/")
    assert_error_page(refused, 403)
    assert_security_headers(refused)
    assert_json_error(committee.get(f"/fava/{slug}/api/ledger_data"), 403)
    auditor = logged_in(served, "auditor")
    write = auditor.post(f"/fava/{slug}/api/source")
    assert write.status_code == 405 and write.headers["Allow"] == "GET, HEAD"
    assert_security_headers(write)


# --- stored files ---------------------------------------------------------------


def assert_download(response, body: bytes) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Type"] == "application/octet-stream"
    csp = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert "sandbox" in csp and "default-src 'none'" in csp
    assert_security_headers(response)
    assert response.data == body


def test_a_stored_statement_is_a_download_a_browser_never_runs(auditor, slug, books):
    path = document_path(books)
    r = auditor.get(f"/fava/{slug}/document/?" + urlencode({"filename": path}))
    assert_download(r, open(path, "rb").read())
    assert "hostile.camt053.xml" in r.headers["Content-Disposition"]


def test_the_statement_route_serves_files_the_same_way(auditor, books):
    """Fava's statement/ finds a file through an entry's metadata; the ISU
    importer's ``statement`` values are relative to the ledger, so a note
    whose value is relative to its file stands in for the case it resolves
    (written before Fava first loads the books)."""
    from beancount import loader
    from fava.beans.funcs import hash_entry

    rel = "../" + str(Path(document_path(books)).relative_to(books))
    with open(books / "txns" / "2025.beancount", "a", encoding="utf-8") as fh:
        fh.write(f'\n2025-09-01 note Assets:Bank:UBS:CHF "the hostile statement"\n  statement: "{rel}"\n')
    entries, errors, _options = loader.load_file(str(books / "main.beancount"))
    assert not errors
    (note,) = (e for e in entries if getattr(e, "comment", None) == "the hostile statement")
    slug = auditor.get("/fava/").headers["Location"].split("/")[2]
    r = auditor.get(f"/fava/{slug}/statement/?" + urlencode({"entry_hash": hash_entry(note), "key": "statement"}))
    assert_download(r, open(document_path(books), "rb").read())


# --- errors -------------------------------------------------------------------


# Each of these answered 500 (Fava's own error page or JSON).
FAVA_500S = [
    ("/fava/{slug}/statement/?entry_hash=x", 404, "page"),
    ("/fava/{slug}/api/source?filename=/etc/passwd", 404, "json"),
    ("/fava/{slug}/api/extract?filename=/etc/passwd&importer=x", 400, "json"),
    ("/fava/{slug}/api/query?query_string=SELEKT", 400, "json"),
    ("/fava/{slug}/document/?filename=%00", 400, "page"),
    ("/fava/jump?time=2025", 400, "page"),  # no Fava page to return to
    ("/fava/{slug}/download-query/query_result.csv?query_string=SELEKT", 400, "page"),
]


@pytest.mark.parametrize(("path", "status", "kind"), FAVA_500S)
def test_favas_500s_are_the_app_error_pages(auditor, slug, path, status, kind):
    response = auditor.get(path.format(slug=slug))
    (assert_json_error if kind == "json" else assert_error_page)(response, status)
    assert_security_headers(response)


def test_favas_404_is_the_app_error_page(auditor, slug):
    assert_error_page(auditor.get(f"/fava/{slug}/nosuch/"), 404)


def test_jump_still_returns_to_the_fava_page(auditor, slug):
    page = f"http://localhost/fava/{slug}/journal/?time=2024"
    r = auditor.get("/fava/jump?time=2025", headers={"Referer": page})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/fava/{slug}/journal/?time=2025")


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "txt"])
def test_query_downloads_other_than_csv_are_refused(auditor, slug, fmt):
    assert_error_page(auditor.get(f"/fava/{slug}/download-query/query_result.{fmt}?query_string=SELECT%20payee"), 404)


def test_csv_query_downloads_never_hold_a_formula(auditor, slug):
    r = auditor.get(f"/fava/{slug}/download-query/query_result.csv?" + urlencode({"query_string": "SELECT payee, narration, position"}))
    assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    cells = [cell for row in rows[1:] for cell in row]
    payees = {row[0] for row in rows[1:]}
    for name in FORMULAS:
        assert "'" + name in payees, (name, payees)  # kept, as text
    number = re.compile(r"-?[0-9,.]+")
    live = [c for c in cells if c[:1] in ("=", "+", "-", "@") and not number.fullmatch(c)]
    assert not live, live
    assert "-10.0" in cells or "-10.00" in cells  # negative amounts stay numbers


# --- HEAD ---------------------------------------------------------------------


def test_head_answers_like_get(auditor, slug, books):
    for path in (f"/fava/{slug}/income_statement/", f"/fava/{slug}/api/ledger_data",
                 f"/fava/{slug}/document/?" + urlencode({"filename": document_path(books)}), f"/fava/{slug}/statement/?entry_hash=x"):
        get, head = auditor.get(path), auditor.head(path)
        assert head.status_code == get.status_code, path
        assert head.data == b""
        for name in ("Content-Type", "Content-Length", "Content-Security-Policy", "Content-Disposition", "Cache-Control"):
            assert head.headers.get(name) == get.headers.get(name), (path, name)


# --- a crawl of every Fava route ---------------------------------------------------

HOSTILE = ["", "x", "/etc/passwd", "../../../../etc/passwd", "\x00", "' OR 1=1", "=cmd|' /C calc'!A0", "9" * 30, "2025-13-45", "a" * 3000]
PARAMS = ["filename", "entry_hash", "key", "query_string", "time", "account", "filter", "conversion", "interval",
          "page", "order", "payee", "narration", "importer", "name", "new_name", "page_slug", "partial", "r"]


def fava_urls(served, slug) -> list[str]:
    """One URL per GET route of Fava (and per value of its path parts)."""
    from fava.application import CLIENT_SIDE_REPORTS

    fava = served.wsgi_app.fava_wsgi.__self__
    samples = {"bfile": [slug], "report_name": [*CLIENT_SIDE_REPORTS, "x"], "name": ["Assets:Bank:UBS:CHF", "x"],
               "aggregation_key": ["account"], "result_format": ["csv", "xlsx", "ods"], "page_slug": ["_index", "x"]}
    urls = []
    for rule in fava.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        names = sorted(rule.arguments)
        for values in itertools.product(*(samples.get(n, ["x"]) for n in names)):
            _domain, path = rule.build(dict(zip(names, values, strict=True)), append_unknown=False)
            urls.append("/fava" + path)
    return urls


def test_crawl_every_fava_route_as_each_role(served, logged_in, slug):
    urls = fava_urls(served, slug)
    assert len(urls) > 40
    failures, requests = [], 0
    for role in ("admin", "auditor"):
        client = logged_in(served, role)
        queries = [{}] if role == "admin" else [{}] + [{p: h for p in PARAMS} for h in HOSTILE]
        for url, query in itertools.product(urls, queries):
            for method in ("GET", "HEAD") if not query else ("GET",):
                r = client.open(url + ("?" + urlencode(query) if query else ""), method=method)
                requests += 1
                if r.status_code >= 500 or "frame-ancestors 'none'" not in r.headers.get("Content-Security-Policy", ""):
                    failures.append(f"{role} {method} {url}?{urlencode(query)[:80]}: {r.status_code}")
    for role, expected in (("finance", 403), ("committee", 403), (None, 302)):
        client = logged_in(served, role) if role else served.test_client()
        for url in urls:
            r = client.get(url)
            requests += 1
            if r.status_code != expected:
                failures.append(f"{role} GET {url}: {r.status_code}, expected {expected}")
    print(f"crawl: {requests} requests over {len(urls)} Fava URLs, {len(failures)} failures")
    assert not failures, "\n".join(failures[:40])
