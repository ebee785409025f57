"""Year end in the web app: only years the books hold, and the signing
auditor is the signed-in auditor account (its full name), with for whom it
signs recorded apart - in the books, the commit, the SignOff row and the
audit log. (The test books begin with an opening balance on 2025-06-30.)"""

from __future__ import annotations

import datetime

from sqlalchemy import select, update

from app.web.db import AuditEvent, SignOff, User
from ledger.store import gitrepo


def _post(client, csrf, path: str, body: dict | None = None):
    return client.post(path, json=body or {}, headers={"X-CSRFToken": csrf(client)})


def _form(client, csrf, path: str, data: dict):
    return client.post(path, data={**data, "csrf_token": csrf(client)})


def test_year_end_outside_the_books_is_refused(csrf, logged_in, head, app, ledger):
    finance, auditor = logged_in(app, "finance"), logged_in(app, "auditor")
    before = head(ledger)
    r = _post(finance, csrf, "/api/year-end/1999/close")
    assert r.status_code == 400 and "the books begin in 2025 (first entry 2025-06-30); they hold no 1999" in r.get_json()["error"]
    r = _post(auditor, csrf, "/api/year-end/1999/sign-off", {"opinion_date": "2000-03-31"})
    assert r.status_code == 400 and "they hold no 1999" in r.get_json()["error"]
    assert _form(finance, csrf, "/year-end/close", {"year": "1999"}).status_code == 303
    assert "they hold no 1999" in finance.get("/year-end/").get_data(as_text=True)
    assert head(ledger) == before and not (ledger / "txns" / "1999.beancount").exists()


def test_the_signed_in_auditor_signs_in_its_full_name(csrf, logged_in, head, app, ledger):
    from ledger.finance.yearend import locked_years, on_behalf_of
    from ledger.loader import load_books

    finance, auditor = logged_in(app, "finance"), logged_in(app, "auditor")
    assert _post(finance, csrf, "/api/year-end/2025/close").status_code == 200
    closed = head(ledger)
    today = datetime.date.today().isoformat()
    page = auditor.get("/year-end/").get_data(as_text=True)
    assert 'name="auditor"' not in page and "Signed by <strong>Aude Auditor</strong>" in page
    # A body naming another auditor is refused, not silently re-attributed.
    r = _post(auditor, csrf, "/api/year-end/2025/sign-off", {"auditor": "Mallory", "opinion_date": today})
    assert r.status_code == 400 and "signed-in account" in r.get_json()["error"] and head(ledger) == closed
    r = _post(auditor, csrf, "/api/year-end/2025/sign-off", {"opinion_date": today, "on_behalf_of": "Swiss  Federal Audit Office"})
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert (got["auditor"], got["on_behalf_of"], got["commit"]) == ("Aude Auditor", "Swiss Federal Audit Office", head(ledger))
    lock = locked_years(load_books(ledger).entries)[2025]
    assert lock.auditor == "Aude Auditor" and on_behalf_of(lock) == "Swiss Federal Audit Office"
    message = gitrepo.log(ledger, "-1", "--format=%an|%s").strip()
    assert message == f"web:auditor|sign-off 2025 (auditor Aude Auditor, on behalf of Swiss Federal Audit Office, unmodified opinion {today})"
    with app.extensions["isu_db"]() as s:
        row = s.scalars(select(SignOff)).one()
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "year.sign_off", AuditEvent.outcome == "ok")).one()
    assert (row.auditor, row.on_behalf_of, row.commit) == ("Aude Auditor", "Swiss Federal Audit Office", got["commit"])
    assert event.user_name == "auditor" and "auditor Aude Auditor, on behalf of Swiss Federal Audit Office" in event.detail
    status = {y["year"]: y for y in auditor.get("/api/year-end").get_json()}[2025]
    assert (status["auditor"], status["on_behalf_of"]) == ("Aude Auditor", "Swiss Federal Audit Office")


def test_the_sign_off_form_ignores_a_typed_auditor_name(csrf, logged_in, app, ledger):
    from ledger.finance.yearend import locked_years, on_behalf_of
    from ledger.loader import load_books

    assert _post(logged_in(app, "finance"), csrf, "/api/year-end/2025/close").status_code == 200
    auditor = logged_in(app, "auditor")
    today = datetime.date.today().isoformat()
    r = _form(auditor, csrf, "/year-end/sign-off", {"year": "2025", "auditor": "Mallory", "opinion_date": today})
    assert r.status_code == 303
    assert "2025 signed off by Aude Auditor; the year is locked." in auditor.get("/year-end/").get_data(as_text=True)
    lock = locked_years(load_books(ledger).entries)[2025]
    assert lock.auditor == "Aude Auditor" and on_behalf_of(lock) is None


def test_an_auditor_account_without_a_full_name_cannot_sign(csrf, logged_in, head, app, ledger):
    """Accounts made before full names existed: the sign-off says how to set one."""
    assert _post(logged_in(app, "finance"), csrf, "/api/year-end/2025/close").status_code == 200
    closed = head(ledger)
    with app.extensions["isu_db"]() as s:
        s.execute(update(User).where(User.name == "auditor").values(full_name=None))
        s.commit()
    auditor = logged_in(app, "auditor")
    r = _post(auditor, csrf, "/api/year-end/2025/sign-off", {"opinion_date": datetime.date.today().isoformat()})
    assert r.status_code == 409 and "an admin sets it on the Users page" in r.get_json()["error"]
    assert "has no full name to sign with" in auditor.get("/year-end/").get_data(as_text=True)
    assert head(ledger) == closed


def test_user_add_and_set_full_name(cli, make_app, ledger, database_url, monkeypatch):
    monkeypatch.setenv("ISU_DATABASE_URL", database_url)
    code, _, err = cli(ledger, "user", "add", "aude", "--role", "auditor", stdin="a long enough password\n")
    assert code == 2 and "an auditor account needs a full name" in err
    code, out, err = cli(ledger, "user", "add", "aude", "--role", "auditor", "--full-name", " Aude   Roe ", stdin="a long enough password\n")
    assert (code, out) == (0, "user aude: added (auditor)\n"), err
    code, _, err = cli(ledger, "user", "set", "aude", "--full-name", 'Aude "Mallory" Roe')
    assert code == 2 and "may not contain quotes" in err
    assert cli(ledger, "user", "set", "aude", "--full-name", "Aude Roe-Smith")[1] == "user aude: full name Aude Roe-Smith\n"
    code, _, err = cli(ledger, "user", "set", "aude", "--full-name", " ")
    assert code == 2 and "needs a full name" in err
    assert cli(ledger, "user", "add", "fin", "--role", "finance", stdin="a long enough password\n")[0] == 0
    app = make_app(ledger, database_url)
    with app.extensions["isu_db"]() as s:
        names = dict(s.execute(select(User.name, User.full_name)).all())
    assert names == {"aude": "Aude Roe-Smith", "fin": None}
