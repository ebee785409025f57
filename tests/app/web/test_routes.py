"""Every route x every role: the status each role gets, so nobody sees or
does what their role does not allow. A route added without a row here
fails ``test_every_route_is_in_the_matrix``.

POSTs send a valid CSRF token and harmless input (nothing valid to write):
allowed roles get the refusal of the input (400/303/404), the others 403.
"""

from __future__ import annotations

import pytest

A, F, U, C, N = "admin", "finance", "auditor", "committee", None  # N: not logged in
ALL = (A, F, U, C)


def only(statuses: dict, allowed: tuple, ok: int, anon: int = 302) -> dict:
    return {role: (ok if role in allowed else 403) for role in ALL} | {N: anon} | statuses


# (method, path, body, {role: status}); body: dict of form fields, or ("json", obj)
MATRIX = [
    ("GET", "/", None, only({}, ALL, 200)),
    ("GET", "/login", None, {r: 200 for r in (*ALL, N)}),
    ("POST", "/login", {"name": "nobody", "password": "wrong password"}, {r: 401 for r in (*ALL, N)}),
    ("POST", "/logout", {}, {r: 302 for r in (*ALL, N)}),
    ("GET", "/static/style.css", None, {r: 200 for r in (*ALL, N)}),
    ("GET", "/import/", None, only({}, (A, F), 200)),
    ("POST", "/import/", {}, only({}, (A, F), 400)),
    ("GET", "/import/999", None, only({}, (A, F), 404)),
    ("POST", "/import/999/confirm", {}, only({}, (A, F), 404)),
    ("POST", "/import/999/discard", {}, only({}, (A, F), 404)),
    ("GET", "/import/999/undo", None, only({}, (A, F), 404)),
    ("POST", "/import/999/undo", {}, only({}, (A, F), 404)),
    ("GET", "/review/", None, only({}, (A, F, U), 200)),
    ("POST", "/review/", {}, only({}, (A, F), 400)),
    ("POST", "/review/undo/999", {}, only({}, (A, F), 404)),
    ("GET", "/reports/", None, only({}, ALL, 200)),
    ("GET", "/reports/contributions?year=2025&format=json", None, only({}, ALL, 200)),
    ("GET", "/reports/nosuch?year=2025", None, only({}, ALL, 404)),
    ("GET", "/year-end/", None, only({}, (A, F, U), 200)),
    ("POST", "/year-end/close", {"year": "x"}, only({}, (A, F), 303)),
    ("POST", "/year-end/sign-off", {"year": "x"}, only({}, (U,), 303)),
    ("GET", "/registry/", None, only({}, (A, F, U), 200)),
    ("POST", "/registry/alias", {}, only({}, (A, F), 303)),
    ("POST", "/registry/language", {}, only({}, (A, F), 303)),
    ("GET", "/uploads/", None, only({}, (A, F), 200)),
    ("GET", "/uploads/template/pledges", None, only({}, (A, F), 200)),
    ("POST", "/uploads/pledges", {}, only({}, (A, F), 303)),
    ("POST", "/uploads/budget/explain", {}, only({}, (A, F), 400)),
    ("GET", "/audit/", None, only({}, (A, U), 200)),
    ("GET", "/audit/commit/0000000", None, only({}, (A, U), 404)),
    ("GET", "/users/", None, only({}, (A,), 200)),
    ("POST", "/users/add", {}, only({}, (A,), 303)),
    ("POST", "/users/contributions/disable", {}, only({}, (A,), 303)),
    ("POST", "/users/contributions/password", {}, only({}, (A,), 303)),
    ("POST", "/users/contributions/full-name", {}, only({}, (A,), 303)),
    ("GET", "/rules/", None, only({}, (A, F), 200)),
    ("POST", "/rules/forget", {}, only({}, (A, F), 303)),
    ("GET", "/letters/", None, only({}, (A, F), 200)),
    ("POST", "/letters/generate", {}, only({}, (A, F), 303)),
    ("GET", "/letters/999.pdf", None, only({}, (A, F), 404)),
    ("GET", "/favicon.ico", None, {r: 301 for r in (*ALL, N)}),
    ("GET", "/fava/", None, only({}, (A, U), 302)),
    ("POST", "/fava/", {}, only({}, (A, U), 405)),
    ("GET", "/api/openapi.json", None, {r: 200 for r in (*ALL, N)}),
    ("GET", "/api/csrf", None, {r: 200 for r in (*ALL, N)}),
    ("POST", "/api/login", ("json", {}), {r: 400 for r in (*ALL, N)}),
    ("POST", "/api/logout", ("json", {}), {r: 200 for r in (*ALL, N)}),
    ("GET", "/api/me", None, only({}, ALL, 200, 401)),
    ("GET", "/api/position?year=2025", None, only({}, ALL, 200, 401)),
    ("POST", "/api/imports", {}, only({}, (A, F), 400, 401)),
    ("GET", "/api/imports/999", None, only({}, (A, F), 404, 401)),
    ("POST", "/api/imports/999/confirm", ("json", {}), only({}, (A, F), 404, 401)),
    ("POST", "/api/imports/999/discard", ("json", {}), only({}, (A, F), 404, 401)),
    ("POST", "/api/imports/999/undo", ("json", {}), only({}, (A, F), 404, 401)),
    ("GET", "/api/review", None, only({}, (A, F, U), 200, 401)),
    ("POST", "/api/review/abc/resolve", ("json", {}), only({}, (A, F), 400, 401)),
    ("POST", "/api/review/resolve", ("json", {}), only({}, (A, F), 400, 401)),
    ("POST", "/api/review/decisions/999/undo", ("json", {}), only({}, (A, F), 404, 401)),
    ("GET", "/api/states?q=fra", None, only({}, ALL, 200, 401)),
    ("GET", "/api/reports/contributions?year=2025&format=json", None, only({}, ALL, 200, 401)),
    ("GET", "/api/year-end", None, only({}, (A, F, U), 200, 401)),
    ("POST", "/api/year-end/1998/close", ("json", {}), only({}, (A, F), 400, 401)),
    ("POST", "/api/year-end/1998/sign-off", ("json", {}), only({}, (U,), 400, 401)),
    ("GET", "/api/registry", None, only({}, (A, F, U), 200, 401)),
    ("POST", "/api/registry/SVK/aliases", ("json", {}), only({}, (A, F), 400, 401)),
    ("POST", "/api/uploads/pledges", {}, only({}, (A, F), 400, 401)),
    ("GET", "/api/audit", None, only({}, (A, U), 200, 401)),
]

# Rules of the url map as matrix paths (placeholders filled in).
SAMPLE = {"<int:batch_id>": "999", "<int:decision_id>": "999", "<name>": "contributions", "<item_id>": "abc", "<int:year>": "1998",
          "<iso3>": "SVK", "<kind>": "pledges", "<sha>": "0000000", "<path:filename>": "style.css",
          "<int:letter_id>": "999"}


@pytest.fixture
def served(make_app, add_users, ledger, database_url):
    app = make_app(ledger, database_url, wsgi=True)
    add_users(app)
    return app


def call(client, method, path, body):
    headers = {"X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]} if method == "POST" else {}
    if isinstance(body, tuple):
        return client.open(path, method=method, json=body[1], headers=headers)
    data = dict(body or {})
    if method == "POST" and not path.startswith("/api/"):
        data["csrf_token"] = headers.pop("X-CSRFToken")
    return client.open(path, method=method, data=data, headers=headers)


@pytest.mark.parametrize("role", [*ALL, N], ids=lambda r: r or "anonymous")
def test_route_matrix(login, served, ledger, role):
    from ledger.store import gitrepo

    before = gitrepo.head(ledger)
    failures = []
    client = None
    for method, path, body, expected in MATRIX:
        if client is None:  # a fresh session (again after a row that logs out)
            client = served.test_client()
            if role is not None:
                assert login(client, role).status_code == 302
        got = call(client, method, path, body).status_code
        if "log" in path:
            client = None
        if got != expected[role]:
            failures.append(f"{method} {path}: {got}, expected {expected[role]}")
    assert not failures, f"role {role}:\n" + "\n".join(failures)
    assert gitrepo.head(ledger) == before  # nothing in the matrix writes to the books


def test_every_route_is_in_the_matrix(served):
    covered = {(m, p.split("?")[0]) for m, p, _, _ in MATRIX}
    missing = []
    for rule in served.url_map.iter_rules():
        path = rule.rule
        for placeholder, value in SAMPLE.items():
            path = path.replace(placeholder, value)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, path) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing, "routes without a row in MATRIX: " + ", ".join(sorted(missing))


def test_fava_for_auditor_opens_the_books_read_only(login, served, ledger):
    client = served.test_client()
    login(client, "auditor")
    first = client.get("/fava/")
    assert first.status_code == 302
    page = client.get(first.headers["Location"])
    assert page.status_code == 200 and "ISU" in page.get_data(as_text=True)
    slug = first.headers["Location"].split("/")[2]
    before = (ledger / "main.beancount").read_bytes()
    for method in ("PUT", "POST", "DELETE", "PATCH"):
        r = client.open(f"/fava/{slug}/api/source", method=method, json={"file_path": str(ledger / "main.beancount"), "source": "x", "sha256sum": ""})
        assert r.status_code == 405
    assert (ledger / "main.beancount").read_bytes() == before


def test_fava_refuses_committee_and_sends_strangers_to_login(login, served):
    anon = served.test_client().get("/fava/income_statement/?time=2025")
    assert anon.status_code == 302
    assert anon.headers["Location"].startswith("/login?next=%2Ffava%2Fincome_statement%2F")
    client = served.test_client()
    login(client, "committee")
    assert client.get("/fava/").status_code == 403
