"""The admin pages and the app shell's answers: the Users page (admins),
the learned matching rules (finance, admin), the app's own error pages,
plain words instead of command-line flags, and one audit event for every
refused action."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.web.db import AuditEvent, User

FLAG = re.compile(r"(?<![\w-])--[a-z]")


def audit_rows(app, action: str | None = None, outcome: str | None = None) -> list[AuditEvent]:
    with app.extensions["isu_db"]() as s:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        if outcome:
            query = query.where(AuditEvent.outcome == outcome)
        return list(s.scalars(query))


def token(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


# --- users ---------------------------------------------------------------------


def test_an_admin_adds_resets_and_disables_users(app, logged_in, login):
    admin = logged_in(app, "admin")
    page = admin.get("/users/").get_data(as_text=True)
    assert "Fiona Finance" in page and 'aria-current="page"' in page
    csrf = token(admin, "/users/")
    r = admin.post("/users/add", data={"csrf_token": csrf, "name": "zoe", "role": "auditor", "full_name": "Zoé Zimmer",
                                       "password": "a long enough password"}, follow_redirects=True)
    assert "User zoe added (auditor)." in r.get_data(as_text=True)
    with app.extensions["isu_db"]() as s:
        zoe = s.scalars(select(User).where(User.name == "zoe")).one()
        assert (zoe.role, zoe.full_name, zoe.active) == ("auditor", "Zoé Zimmer", True)
    # Refusals name the field in plain words: no command-line flag.
    r = admin.post("/users/add", data={"csrf_token": csrf, "name": "yan", "role": "auditor", "password": "a long enough password"},
                   follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "an auditor account needs a full name" in text and not FLAG.search(text)
    r = admin.post("/users/zoe/password", data={"csrf_token": csrf, "password": "short"}, follow_redirects=True)
    assert "password too short" in r.get_data(as_text=True)
    admin.post("/users/zoe/password", data={"csrf_token": csrf, "password": "another long password"})
    assert login(app.test_client(), "zoe", "another long password").status_code == 302
    r = admin.post("/users/zoe/disable", data={"csrf_token": csrf}, follow_redirects=True)
    assert "User zoe disabled" in r.get_data(as_text=True)
    assert login(app.test_client(), "zoe", "another long password").status_code == 401
    r = admin.post("/users/admin/disable", data={"csrf_token": csrf}, follow_redirects=True)
    assert "cannot disable your own account" in r.get_data(as_text=True)
    actions = [(e.action, e.outcome) for e in audit_rows(app) if e.action.startswith("user.")]
    assert actions == [("user.add", "ok"), ("user.add", "refused"), ("user.password", "refused"), ("user.password", "ok"),
                       ("user.disable", "ok"), ("user.disable", "refused")]


@pytest.mark.parametrize("role", ["finance", "auditor", "committee"])
def test_only_admins_reach_the_users_page(app, logged_in, role):
    client = logged_in(app, role)
    r = client.get("/users/")
    assert r.status_code == 403 and "Not allowed" in r.get_data(as_text=True)
    assert "Back to the dashboard" in r.get_data(as_text=True)


# --- rules -----------------------------------------------------------------------


def test_learned_rules_are_listed_and_forgotten_through_the_writer(app, ledger, logged_in, head):
    from importers.learned_rules import load_rules
    from importers.review import resolve, review_items
    from ledger.loader import load_books

    item = review_items(load_books(ledger).entries)[0]
    resolve(ledger, item.id, state_party="CHE", year=2025, remember=True, user="test:finance")
    rule = load_rules(ledger)[0]
    finance = logged_in(app, "finance")
    page = finance.get("/rules/").get_data(as_text=True)
    assert "Switzerland (CHE)" in page and (rule.payer_name or rule.payer_account) in page
    before = head(ledger)
    r = finance.post("/rules/forget", data={"csrf_token": token(finance, "/rules/"), "payer_account": rule.payer_account or "",
                                            "payer_name": rule.payer_name or ""}, follow_redirects=True)
    assert "Rule forgotten" in r.get_data(as_text=True)
    assert load_rules(ledger) == [] and head(ledger) != before
    [event] = audit_rows(app, "rules.forget", "ok")
    assert event.commit == head(ledger)
    again = finance.post("/rules/forget", data={"csrf_token": token(finance, "/rules/"), "payer_name": "NOBODY"}, follow_redirects=True)
    assert "no learned rule" in again.get_data(as_text=True)
    assert len(audit_rows(app, "rules.forget", "refused")) == 1
    assert logged_in(app, "committee").get("/rules/").status_code == 403


# --- error pages -------------------------------------------------------------------


def test_error_pages_are_the_apps_own(app, logged_in):
    finance = logged_in(app, "finance")
    r = finance.get("/no/such/page")
    text = r.get_data(as_text=True)
    assert r.status_code == 404 and "Page not found" in text and "Back to the dashboard" in text
    assert "requested URL" not in text and 'class="top"' in text  # the app's layout, not the framework's text
    r = finance.post("/reports/")
    assert r.status_code in (400, 405)
    r = finance.get("/api/nothing-here")
    assert r.status_code == 404 and r.get_json()["status"] == 404
    r = finance.get("/audit/")
    assert r.status_code == 403 and "Not allowed" in r.get_data(as_text=True)
    assert finance.get("/favicon.ico").status_code == 301
    assert finance.get("/static/favicon.svg").status_code == 200


def test_an_unexpected_error_is_a_plain_500_page(app, logged_in, monkeypatch):
    import app.web.dashboard as dashboard

    def broken(*_a, **_k):
        raise RuntimeError("internal detail that must not show")

    monkeypatch.setattr(dashboard, "position", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = logged_in(app, "finance").get("/")
    text = r.get_data(as_text=True)
    assert r.status_code == 500 and "Something went wrong" in text and "internal detail" not in text


def test_an_oversized_upload_is_refused_in_plain_words_and_audited(make_app, ledger, database_url, add_users, logged_in):
    app = make_app(ledger, database_url, MAX_CONTENT_LENGTH=1024)
    add_users(app)
    finance = logged_in(app, "finance")
    r = finance.post("/import/", data={"csrf_token": token(finance, "/import/"), "x": "y" * 4000})
    assert r.status_code == 413 and "File too large" in r.get_data(as_text=True)
    [event] = audit_rows(app, outcome="refused")
    assert event.user_name == "finance" and "too large" in event.detail.lower() or "larger" in event.detail


# --- the audit of refusals -----------------------------------------------------------


def test_every_refused_action_is_recorded_once(app, logged_in):
    committee = logged_in(app, "committee")
    assert committee.get("/review/").status_code == 403  # a page the role may not open
    assert committee.post("/year-end/close", data={"year": "2025"}).status_code == 400  # no CSRF token
    finance = logged_in(app, "finance")
    csrf = token(finance, "/year-end/")
    finance.post("/year-end/close", data={"csrf_token": csrf, "year": "20x5"})  # a bad year: flashed
    events = audit_rows(app, outcome="refused")
    assert [(e.user_name, e.action) for e in events] == [("committee", "review.index"), ("committee", "yearend.close"),
                                                         ("finance", "year.close")] or \
        [(e.user_name, e.action) for e in events] == [("committee", "review.index"), ("committee", "yearend.close"),
                                                      ("finance", "yearend.close")]
    assert "CSRF" in events[1].detail and "20x5" in events[2].detail
    assert all(e.role for e in events)


# --- no command-line flags in what a web user reads ------------------------------------


def test_messages_name_fields_not_command_line_flags(app, logged_in):
    auditor = logged_in(app, "auditor")
    csrf = token(auditor, "/year-end/")
    r = auditor.post("/year-end/sign-off", data={"csrf_token": csrf, "year": "2025", "opinion_date": "2099-01-01"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "Opinion date" in text and not FLAG.search(text), text[-2000:]
    finance = logged_in(app, "finance")
    for path in ("/reports/statement?year=2025&format=json", "/reports/statement?year=2025&state_party=XXX&format=json",
                 "/reports/annual?year=2025&as_of=tomorrow"):
        r = finance.get(path)
        assert r.status_code == 400 and not FLAG.search(r.get_data(as_text=True)), path
    for path in ("/", "/reports/", "/year-end/", "/review/", "/import/", "/uploads/", "/registry/", "/rules/"):
        text = finance.get(path).get_data(as_text=True)
        assert not FLAG.search(text), path


# --- dates and figures on the shell's pages -----------------------------------------------


def test_the_opening_balance_alone_is_no_year_and_year_end_offers_the_first_open_year(app, ledger, logged_in):
    import datetime

    from app.web.views import book_years
    from app.web.yearend import first_open
    from ledger.loader import load_books

    assert book_years(load_books(ledger).entries) == [2025]  # opened 2025-06-30; July's receipts make 2025
    years = [{"year": 2022, "closed": True, "signed_off": True}, {"year": 2023, "closed": True, "signed_off": False},
             {"year": 2024, "closed": False, "signed_off": False}, {"year": 2025, "closed": False, "signed_off": False}]
    assert first_open(years, datetime.date(2025, 11, 1)) == {"close": 2023, "sign_off": 2023}
    assert first_open(years[:1], datetime.date(2025, 11, 1)) == {"close": None, "sign_off": None}
    page = logged_in(app, "finance").get("/year-end/").get_data(as_text=True)
    assert re.search(r'<select name="year"><option selected>2025</option></select>', page)


def test_the_monthly_chart_has_round_axis_values():
    from decimal import Decimal

    from app.web.charts import axis_label, bar_chart, nice_step

    assert nice_step(Decimal("283480.23")) == Decimal("100000")
    assert nice_step(Decimal("90")) == Decimal("25")
    assert [axis_label(Decimal(v)) for v in (0, 250, 25000, 1500000)] == ["0", "250", "25k", "1.5M"]
    chart = bar_chart("t", [("Jan", Decimal("283480.23")), ("Feb", Decimal("0"))])
    assert [t.label for t in chart.ticks] == ["0", "100k", "200k", "300k", "400k"]
    assert Decimal(chart.bars[0].height) < Decimal(chart.baseline) - Decimal(chart.ticks[-1].y)  # below the top tick


def test_an_html_report_shown_in_the_app_leads_back_and_its_download_stays_standalone(app, logged_in):
    client = logged_in(app, "committee")
    shown = client.get("/reports/annual?year=2025&format=html").get_data(as_text=True)
    assert shown.index("&larr; Reports") < shown.index("</nav>") and 'aria-label="Annual report 2025, PDF"' in shown
    saved = client.get("/reports/annual?year=2025&format=html&download=1")
    assert "attachment" in saved.headers["Content-Disposition"] and b"Reports</a>" not in saved.data


def test_a_locked_year_and_a_bad_upload_are_each_one_refusal(app, logged_in):
    import datetime
    import io

    finance = logged_in(app, "finance")
    csrf = token(finance, "/year-end/")
    finance.post("/year-end/close", data={"csrf_token": csrf, "year": "2025"})
    auditor = logged_in(app, "auditor")
    r = auditor.post("/year-end/sign-off", data={"csrf_token": token(auditor, "/year-end/"), "year": "2025",
                                                 "opinion_date": datetime.date.today().isoformat()}, follow_redirects=True)
    assert "the year is locked" in r.get_data(as_text=True)
    page = finance.get("/year-end/").get_data(as_text=True)
    assert "Every year of the books is signed off" in page  # no locked year offered
    finance.post("/year-end/close", data={"csrf_token": csrf, "year": "2025"})  # sent anyway: refused
    r = finance.post("/import/", data={"csrf_token": csrf, "files": (io.BytesIO(b"not a statement"), "junk.txt")},
                     content_type="multipart/form-data")
    assert r.status_code == 400
    refused = [(e.user_name, e.action) for e in audit_rows(app, outcome="refused")]
    # The close is refused by the year-end code (it records it); the upload before any import code ran (the app records it).
    assert refused == [("finance", "year.close"), ("finance", "imports.upload")], refused
    close, upload = audit_rows(app, outcome="refused")
    assert "signed off" in close.detail and "junk.txt" in upload.detail and "HTTP" not in upload.detail, upload.detail
    page = logged_in(app, "auditor").get("/audit/?outcome=refused").get_data(as_text=True)
    assert "2 event(s)" in page and "junk.txt" in page and "year.sign_off" not in page
