"""Hostile input never makes a server error: damaged workbooks, file names
longer than a file system takes, page numbers beyond any integer - each a
plain 4xx with one line - and a crawl of every page of the app, as each
role, with such values in every query parameter the app reads."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from common.workbooks import DAMAGE, damaged, fill

ROLES = ("admin", "finance", "auditor", "committee")
HOSTILE = (
    "99999999999999999999",
    "-99999999999999999999",
    "-1",
    "0",
    "1e309",
    "nan",
    "abc",
    "２０２５",  # full-width digits: str.isdigit() says yes
    "٢٠٢٥-٠١-٠١",  # Arabic-Indic digits in a date
    "2025-02-30",
    "\x00",
    "\ud800",  # a lone surrogate (sent as %ED%A0%80)
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "é" * 400,
    "x" * 400,
)
WORKBOOKS = {
    "pledges": ("Pledges", ["State Party", "Year", "Amount", "Currency"]),
    "budget": ("Budget", ["Year", "Budget line", "Amount"]),
    "expenditure": ("Expenditure", ["Date", "Budget line", "Description", "Amount", "Reference"]),
}


def _post_file(client, csrf, path: str, field: str, name: str, content: bytes, **form):
    """A multipart upload as the page (form token) or the API (header) sends it."""
    token = csrf(client)
    data = {field: (io.BytesIO(content), name), **form}
    if path.startswith("/api/"):
        return client.post(path, data=data, headers={"X-CSRFToken": token}, content_type="multipart/form-data")
    return client.post(path, data={**data, "csrf_token": token}, content_type="multipart/form-data")


def _flashed(client) -> str:
    """The page a redirect after a form lands on (it shows the flashed message)."""
    return client.get("/uploads/").get_data(as_text=True)


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_a_damaged_or_dtd_workbook_upload_is_a_plain_refusal(csrf, logged_in, head, app, ledger, tmp_path, how):
    client = logged_in(app, "finance")
    before = head(ledger)
    for kind, (sheet, header) in WORKBOOKS.items():
        good = fill(tmp_path / f"{kind}.xlsx", sheet, header, [[None] * len(header)])
        content = damaged(good, tmp_path / f"{kind}-{how}.xlsx", how).read_bytes()
        expected = "XML does not parse" if how == "truncated" else "declares a DTD"
        r = _post_file(client, csrf, f"/api/uploads/{kind}", "file", "sheet.xlsx", content, decision="MSP22")
        assert r.status_code == 400, r.get_data(as_text=True)
        error = r.get_json()["error"]
        assert error.startswith("sheet.xlsx: ") and expected in error and "\n" not in error and str(tmp_path) not in error
        r = _post_file(client, csrf, f"/uploads/{kind}", "file", "sheet.xlsx", content, decision="MSP22")
        assert r.status_code == 303
        assert expected in _flashed(client)
    assert head(ledger) == before


def test_a_file_name_longer_than_the_file_system_takes_is_kept_short(august_statement, csrf, logged_in, head, app, ledger, tmp_path):
    """A 400-character name (most file systems take 255 bytes) is stored
    under a shortened safe name, on every upload route."""
    client = logged_in(app, "finance")
    long_name = "statement-" + "a" * 386 + ".xml"
    r = _post_file(client, csrf, "/api/imports", "files", long_name, august_statement.encode())
    assert r.status_code == 201, r.get_data(as_text=True)
    (stored,) = r.get_json()["files"]
    assert stored["name"].startswith("statement-aaa") and stored["name"].endswith(".xml") and len(stored["name"]) <= 120
    r = _post_file(client, csrf, "/import/", "files", long_name, august_statement.encode())
    assert r.status_code == 302
    before = head(ledger)
    sheet, header = WORKBOOKS["pledges"]
    workbook = fill(tmp_path / "p.xlsx", sheet, header, [["SVK", 2026, "1000.00", "CHF"]]).read_bytes()
    r = _post_file(client, csrf, "/api/uploads/pledges", "file", "p" * 396 + ".xlsx", workbook, dry_run="1")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["summary"].startswith("ppp") and ".xlsx: 1 new" in r.get_json()["summary"]
    r = _post_file(client, csrf, "/uploads/pledges", "file", "p" * 396 + ".xlsx", workbook, dry_run="1")
    assert r.status_code == 303 and ".xlsx: 1 new" in _flashed(client)
    assert head(ledger) == before


@pytest.mark.parametrize("page", ["99999999999999999999", "-99999999999999999999", "-1", "0", "2"])
def test_a_page_beyond_any_integer_is_clamped(logged_in, app, page):
    client = logged_in(app, "auditor")
    r = client.get(f"/api/audit?page={page}")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["page"] == 1 and r.get_json()["events"]  # one page of events: every page is the first
    assert client.get(f"/audit/?page={page}").status_code == 200


@pytest.mark.parametrize("page", ["abc", "1.5", "", "\x00"])
def test_a_page_that_is_not_a_number_is_refused_or_the_first(logged_in, app, page):
    client = logged_in(app, "auditor")
    for path in ("/api/audit", "/audit/"):
        r = client.get(path, query_string={"page": page})
        assert r.status_code in (200, 400), (path, r.status_code)


# --- the crawl ----------------------------------------------------------------------

APP_DIR = Path(__file__).resolve().parents[3] / "app" / "web"
# Path placeholders of the url map: a harmless real value (the crawl also tries every hostile one).
SAMPLES = {"batch_id": ["1"], "name": ["contributions", "statement"], "item_id": ["abc"], "year": ["2025"],
           "iso3": ["SVK"], "kind": ["pledges"], "sha": ["0000000"], "filename": ["style.css"], "letter_id": ["1"]}
# Query parameters the pages read, with a valid value, so that each hostile one gets past the others.
VALID = {"year": "2025", "format": "json", "as_of": "2025-12-31", "state_party": "SVK", "page": "1", "action": "login",
         "q": "slovak", "next": "/", "download": "1", "query_string": "SELECT account", "outcome": "refused"}


def query_parameters() -> set[str]:
    """Every query parameter the app's code reads (``args.get("...")``)."""
    names: set[str] = set()
    for source in APP_DIR.glob("*.py"):
        names |= set(re.findall(r"args\.get\(\s*[\"'](\w+)[\"']", source.read_text(encoding="utf-8")))
    return names


def test_the_crawl_knows_every_query_parameter():
    assert query_parameters() <= set(VALID), "give the new query parameter a valid value in VALID"


def placeholder(rule, argument: str) -> str:
    return re.search(rf"<(?:\w+:)?{argument}>", rule.rule).group(0)


def _quoted(value: str) -> str:
    """``value`` as URL text (a lone surrogate goes as its raw UTF-8 bytes)."""
    return quote(value, safe="", errors="surrogatepass")


def page_requests(app) -> list[tuple[str, dict]]:
    """(path, query) for every GET route: each path placeholder filled with
    a sample and with every hostile value, and each query parameter the app
    reads made hostile in turn (the others valid), then all at once."""
    requests_ = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        paths = [rule.rule]
        for argument in rule.arguments:
            filled = []
            for path in paths:
                for value in (*SAMPLES[argument], *HOSTILE):
                    filled.append(path.replace(placeholder(rule, argument), _quoted(value)))
            paths = filled
        for path in paths:
            requests_.append((path, {}))
        base = paths[0]
        for value in HOSTILE:
            requests_.append((base, {name: value for name in VALID}))
            requests_.extend((base, {**VALID, name: value}) for name in VALID)
    return requests_


@pytest.mark.parametrize("role", ROLES)
def test_crawl_every_page_as_each_role_with_hostile_values(logged_in, app, ledger, role, record_property):
    """No page answers 5xx, whatever is in its path or query string; nothing
    a GET does writes to the books."""
    from ledger.store import gitrepo

    before = gitrepo.head(ledger)
    client = logged_in(app, role)
    seen, failures = 0, []
    for path, query in page_requests(app):
        url = path + ("?" + urlencode(query, quote_via=quote, errors="surrogatepass") if query else "")
        seen += 1
        try:
            response = client.get(url)
        except Exception as exc:  # noqa: BLE001 - the test client re-raises what would be a 500
            failures.append(f"500 GET {url[:300]}: {type(exc).__name__}: {str(exc)[:100]}")
            continue
        if response.status_code >= 500:
            failures.append(f"{response.status_code} GET {url[:300]}")
        if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
            failures.append(f"logged out by GET {url[:300]}")
            client = logged_in(app, role)
    record_property("requests", seen)
    print(f"crawl as {role}: {seen} requests, {len(failures)} server errors")
    assert not failures, f"{len(failures)} of {seen} requests failed:\n" + "\n".join(failures[:40])
    assert gitrepo.head(ledger) == before


def form_fields() -> set[str]:
    """Every form field the app's pages read (``form.get("...")``)."""
    names: set[str] = set()
    for source in APP_DIR.glob("*.py"):
        names |= set(re.findall(r"form\.get(?:list)?\(\s*[\"'](\w+)[\"']", source.read_text(encoding="utf-8")))
    return names


@pytest.mark.parametrize("role", ROLES)
def test_every_form_refuses_hostile_values_plainly(logged_in, csrf, app, ledger, role):
    """Each page form (not the API: schemathesis covers it) posted with a
    hostile value in its path and in every field it reads: a refusal or a
    redirect, never a 5xx, and nothing written to the books."""
    from ledger.store import gitrepo

    before = gitrepo.head(ledger)
    client = logged_in(app, role)
    fields = form_fields()
    failures, seen = [], 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/") or rule.endpoint in ("auth.logout", "auth.login"):
            continue
        for value in HOSTILE:
            path = rule.rule
            for argument in rule.arguments:
                path = path.replace(placeholder(rule, argument), _quoted(value))
            form = {name: value for name in fields} | {f"{prefix}-{value}": value for prefix in ("sp", "year", "wp", "remember")}
            body = urlencode({**form, "csrf_token": csrf(client)}, errors="surrogatepass")
            seen += 1
            try:
                response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
            except Exception as exc:  # noqa: BLE001 - the test client re-raises what would be a 500
                failures.append(f"500 POST {path[:120]} {value[:20]!r}: {type(exc).__name__}: {str(exc)[:100]}")
                continue
            if response.status_code >= 500:
                failures.append(f"{response.status_code} POST {path[:120]} {value[:20]!r}")
    print(f"forms as {role}: {seen} requests, {len(failures)} server errors")
    assert not failures, "\n".join(failures[:40])
    assert gitrepo.head(ledger) == before, gitrepo.log(ledger, f"{before}..", "--format=%s")
