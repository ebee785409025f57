"""The monthly job through the web app: import (upload -> preview -> confirm),
review (one, several, remember), reports, registry, audit log - each write
one ledger commit, recorded in SQL with that commit."""

from __future__ import annotations

import io
import json
from decimal import Decimal

from sqlalchemy import select

from app.web.db import AuditEvent, ImportBatch, MatchingRule, ReviewDecision


def upload(client, name: str, content: str | bytes):
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return client.post("/import/", data={"csrf_token": client.get("/api/csrf").get_json()["csrf_token"], "files": (io.BytesIO(raw), name)}, content_type="multipart/form-data")


def test_import_preview_then_confirm(august_statement, csrf, logged_in, head, app, ledger):
    client = logged_in(app, "finance")
    before = head(ledger)
    response = upload(client, "../../etc/ubs 2025-08.xml", august_statement)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "J DOE" in page and "1,500.00" in page and "review" in page
    assert head(ledger) == before  # a preview writes nothing
    with app.extensions["isu_db"]() as s:
        batch = s.scalars(select(ImportBatch)).one()
    assert batch.status == "previewed" and batch.files[0]["name"] == "etc_ubs_2025-08.xml"
    done = client.post(f"/import/{batch.id}/confirm", data={"csrf_token": csrf(client)})
    assert done.status_code == 302
    assert head(ledger) != before
    assert (ledger / "documents/2025/etc_ubs_2025-08.xml").read_text(encoding="utf-8") == august_statement
    with app.extensions["isu_db"]() as s:
        batch = s.get(ImportBatch, batch.id)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "import.confirm")).one()
    assert batch.status == "booked" and batch.commit == head(ledger) == event.commit
    assert batch.result["imported"] == 1
    # Confirming twice is refused; nothing more is written.
    again = client.post(f"/import/{batch.id}/confirm", data={"csrf_token": csrf(client)})
    assert again.status_code == 409 and head(ledger) == batch.commit
    # The audit log links the commit.
    audit = logged_in(app, "auditor").get("/audit/").get_data(as_text=True)
    assert batch.commit[:12] in audit and "import.confirm" in audit


def test_booked_page_says_it_once_and_a_booked_month_offers_no_confirm(august_statement, csrf, logged_in, head, app, ledger):
    """After confirm: one message, with the way to the review queue. The same
    month uploaded again: "nothing new", and no confirm button to press."""
    client = logged_in(app, "finance")
    first = upload(client, "aug.xml", august_statement).headers["Location"]
    done = client.post(f"{first}/confirm", data={"csrf_token": csrf(client)})
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert page.count("Booked 1 entries") == 1 and page.count('class="flash ok"') == 1
    assert 'href="/review/">Open the review queue (1 to review)</a>' in page
    booked = head(ledger)
    again = upload(client, "aug-again.xml", august_statement).headers["Location"]
    page = client.get(again).get_data(as_text=True)
    assert "Nothing new: every entry of this file is already in the books" in page
    assert "Confirm and book" not in page and "Discard" in page
    assert head(ledger) == booked


def test_confirm_is_refused_when_the_books_moved_since_the_preview(august_statement, csrf, logged_in, head, app, ledger):
    client = logged_in(app, "finance")
    response = upload(client, "aug.xml", august_statement)
    batch_id = int(response.headers["Location"].rsplit("/", 1)[1])
    api = client.post("/api/registry/SVK/aliases", json={"alias": "Slovak Treasury Bratislava"}, headers={"X-CSRFToken": csrf(client)})
    assert api.status_code == 200, api.get_json()
    moved = head(ledger)
    r = client.post(f"/import/{batch_id}/confirm", data={"csrf_token": csrf(client)})
    assert r.status_code == 409 and "changed since the preview" in r.get_data(as_text=True)
    assert head(ledger) == moved


def test_bad_files_get_one_clear_line_and_nothing_is_written(august_statement, csrf, logged_in, head, app, ledger):
    client = logged_in(app, "finance")
    before = head(ledger)
    r = upload(client, "statement.xml", "date,amount\n2025-01-01,5\n")
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    assert "statement.xml:" in text and "/tmp" not in text
    broken = august_statement.replace("108500.00", "108400.00")  # closing balance does not reconcile
    r = client.post("/api/imports", data={"files": (io.BytesIO(broken.encode()), "aug.xml")}, headers={"X-CSRFToken": csrf(client)}, content_type="multipart/form-data")
    assert r.status_code == 400
    assert r.get_json()["error"].startswith("aug.xml: statement S-2025-08: balances do not reconcile")
    assert head(ledger) == before


def test_uploads_over_the_limit_are_refused(make_app, add_users, csrf, logged_in, ledger, database_url):

    small = make_app(ledger, database_url, MAX_CONTENT_LENGTH=1024)
    add_users(small, ("finance",))
    client = logged_in(small, "finance")
    r = client.post("/api/imports", data={"files": (io.BytesIO(b"x" * 4096), "big.xml")}, headers={"X-CSRFToken": csrf(client)}, content_type="multipart/form-data")
    assert r.status_code == 413


def test_review_resolve_one_and_several(august_statement, csrf, logged_in, head, app, ledger, tmp_path):
    from importers.importing import import_files

    path = tmp_path / "aug.xml"
    path.write_text(august_statement, encoding="utf-8")
    import_files(ledger, [path], user="test")
    client = logged_in(app, "finance")
    items = client.get("/api/review").get_json()
    assert {i["payer"] for i in items} >= {"ACME TRADING SARL", "J DOE"}
    acme = next(i for i in items if i["payer"] == "ACME TRADING SARL")
    doe = next(i for i in items if i["payer"] == "J DOE")
    # One through the page, with remember.
    form = {"csrf_token": csrf(client), "only": acme["id"], f"sp-{acme['id']}": "CHE", f"year-{acme['id']}": "2025", f"remember-{acme['id']}": "1"}
    assert client.post("/review/", data=form).status_code == 303
    page = client.get("/review/").get_data(as_text=True)
    assert acme["id"] not in page and doe["id"] in page
    # Several through the API: one good, one refused; each has its outcome.
    r = client.post("/api/review/resolve", headers={"X-CSRFToken": csrf(client)}, json={"items": [
        {"id": doe["id"], "state_party": "AUT", "year": 2025},
        {"id": "ffffffff", "state_party": "AUT", "year": 2025},
    ]})
    body = r.get_json()
    assert r.status_code == 200 and body["resolved"] == 1
    assert body["results"][1]["ok"] is False and "no such review item" in body["results"][1]["error"]
    assert {i["id"] for i in client.get("/api/review").get_json()}.isdisjoint({acme["id"], doe["id"]})
    with app.extensions["isu_db"]() as s:
        decisions = s.scalars(select(ReviewDecision).order_by(ReviewDecision.id)).all()
        rule = s.scalars(select(MatchingRule)).one()
    assert [(d.state_party, d.wp_year, d.remember) for d in decisions] == [("CHE", 2025, True), ("AUT", 2025, False)]
    assert rule.state_party == "CHE" and rule.commit == decisions[0].commit
    assert decisions[-1].commit == head(ledger)
    assert "CHE" in (ledger / "registry/rules.csv").read_text(encoding="utf-8")


def test_review_refusals_are_shown_not_crashed(csrf, logged_in, head, app, ledger):
    client = logged_in(app, "finance")
    item = client.get("/api/review").get_json()[0]
    before = head(ledger)
    r = client.post(f"/api/review/{item['id']}/resolve", json={"state_party": "XXZ", "year": 2025}, headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 400 and "not a State Party" in r.get_json()["error"]
    r = client.post("/review/", data={"csrf_token": client.get("/api/csrf").get_json()["csrf_token"], "only": item["id"], f"sp-{item['id']}": "CHE", f"year-{item['id']}": "20x5"}, follow_redirects=True)
    assert "not a year" in r.get_data(as_text=True)
    assert head(ledger) == before


def test_reports_download_and_preview(logged_in, app):
    client = logged_in(app, "committee")
    r = client.get("/reports/contributions?year=2025&format=json")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    doc = json.loads(r.data)
    assert doc["report"] == "contributions" and doc["year"] == 2025
    pdf = client.get("/reports/annual?year=2025&format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    html = client.get("/reports/annual?year=2025&format=html")
    assert html.status_code == 200 and "inline" in html.headers["Content-Disposition"]
    assert "script-src" not in html.headers["Content-Security-Policy"] and "default-src 'none'" in html.headers["Content-Security-Policy"]
    bad = client.get("/api/reports/statement?year=2025&format=json&state_party=QQQ")
    assert bad.status_code == 400 and "registry" in bad.get_json()["error"]


def test_dashboard_shows_the_position(logged_in, app):
    client = logged_in(app, "committee")
    page = client.get("/?year=2025").get_data(as_text=True)
    assert "The 2025 position" in page and "<svg" in page
    assert 'id="review-count">1<' in page
    pos = client.get("/api/position?year=2025").get_json()
    assert pos["bank_balance"] == "107000.00" and pos["review_count"] == 1


def test_registry_alias_is_one_commit_and_validated(csrf, logged_in, head, app, ledger):
    client = logged_in(app, "finance")
    before = head(ledger)
    r = client.post("/registry/alias", data={"csrf_token": client.get("/api/csrf").get_json()["csrf_token"], "iso3": "SVK", "alias": "Slovak Treasury Bratislava"})
    assert r.status_code == 303 and head(ledger) != before
    assert "Slovak Treasury Bratislava" in (ledger / "registry/contributors.csv").read_text(encoding="utf-8")
    after = head(ledger)
    r = client.post("/api/registry/QQQ/aliases", json={"alias": "Nobody"}, headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 400 and head(ledger) == after


def test_closing_a_year_names_its_own_commit_in_the_audit_trail(csrf, logged_in, head, app, ledger):
    client = logged_in(app, "finance")
    before = head(ledger)
    r = client.post("/api/year-end/2025/close", headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 200, r.get_data(as_text=True)
    commit = r.get_json()["commit"]
    assert commit and commit == head(ledger) != before
    with app.extensions["isu_db"]() as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "year.close")).all()
    assert event.outcome == "ok" and event.commit == commit
    again = client.post("/api/year-end/2025/close", headers={"X-CSRFToken": csrf(client)})
    assert again.status_code == 200 and again.get_json()["commit"] is None and head(ledger) == commit


def _preview(client, statement: str) -> int:
    response = upload(client, "aug.xml", statement)
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_discard_during_a_confirm_is_refused(august_statement, csrf, logged_in, head, app, ledger, monkeypatch):
    """Two finance users: one confirms a batch, the other discards it while
    the confirm is booking. Exactly one wins (the confirm, which took the
    batch first), the batch ends booked with its commit, and the audit log
    tells it in the order it happened."""
    import threading

    from app.web import imports

    first, second = logged_in(app, "finance"), logged_in(app, "finance")
    batch_id = _preview(first, august_statement)
    booking, discarded = threading.Event(), threading.Event()
    real_run = imports._run

    def run_once_the_discard_is_answered(files, *, dry_run, **label):
        if not dry_run:
            booking.set()
            assert discarded.wait(60)
        return real_run(files, dry_run=dry_run, **label)

    monkeypatch.setattr(imports, "_run", run_once_the_discard_is_answered)
    token = csrf(first)
    answers = {}
    confirming = threading.Thread(target=lambda: answers.update(confirm=first.post(f"/api/imports/{batch_id}/confirm", headers={"X-CSRFToken": token})))
    confirming.start()
    assert booking.wait(60)
    answers["discard"] = second.post(f"/api/imports/{batch_id}/discard", headers={"X-CSRFToken": csrf(second)})
    discarded.set()
    confirming.join(60)
    assert answers["discard"].status_code == 409, answers["discard"].get_json()
    assert "is confirming, not waiting for confirmation" in answers["discard"].get_json()["error"]
    assert answers["confirm"].status_code == 200, answers["confirm"].get_json()
    with app.extensions["isu_db"]() as s:
        batch = s.get(ImportBatch, batch_id)
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.in_(("import.confirm", "import.discard"))).order_by(AuditEvent.id)).all()
    assert batch.status == "booked" and batch.commit == head(ledger)
    assert [(e.action, e.outcome) for e in events] == [("import.discard", "refused"), ("import.confirm", "ok")]


def test_a_confirm_after_a_discard_is_refused(august_statement, csrf, logged_in, head, app, ledger):
    first, second = logged_in(app, "finance"), logged_in(app, "finance")
    batch_id = _preview(first, august_statement)
    before = head(ledger)
    assert second.post(f"/api/imports/{batch_id}/discard", headers={"X-CSRFToken": csrf(second)}).status_code == 200
    r = first.post(f"/api/imports/{batch_id}/confirm", headers={"X-CSRFToken": csrf(first)})
    assert r.status_code == 409 and "is discarded" in r.get_json()["error"]
    assert head(ledger) == before


def _race(factory, batch_id: int) -> dict[str, bool]:
    """Two threads, each on its own connection, move the batch from
    'previewed' at the same moment: to 'confirming' and to 'discarded'."""
    import threading

    from app.web.import_batches import transition

    start = threading.Barrier(2)
    won: dict[str, bool] = {}

    def race(target: str) -> None:
        with factory() as session:
            start.wait(30)
            won[target] = transition(session, batch_id, "previewed", target)

    threads = [threading.Thread(target=race, args=(t,)) for t in ("confirming", "discarded")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return won


def test_of_racing_transitions_exactly_one_wins(app):
    """The state change itself, on two connections at once (SQLite and
    PostgreSQL): a batch moved from 'previewed' by two threads together is
    moved by one of them, every time."""
    from app.web.db import User

    factory = app.extensions["isu_db"]
    with factory() as s:
        user_id = s.scalars(select(User.id).where(User.name == "finance")).one()
    for _ in range(10):
        with factory() as s:
            batch = ImportBatch(user_id=user_id, status="previewed", files=[], preview={})
            s.add(batch)
            s.commit()
            batch_id = batch.id
        won = _race(factory, batch_id)
        assert sorted(won.values()) == [False, True], won
        with factory() as s:
            assert s.get(ImportBatch, batch_id).status == next(t for t, w in won.items() if w)


def test_dashboard_is_never_as_at_a_day_to_come(logged_in, app):
    import datetime

    client = logged_in(app, "committee")
    pos = client.get(f"/api/position?year={datetime.date.today().year + 1}").get_json()
    assert pos["as_of"] <= datetime.date.today().isoformat()


def test_a_past_years_dashboard_shows_that_years_bank_balance(demo_ledger):
    import datetime

    from app.web.dashboard import bank_balance
    from ledger.loader import load_books
    from reports.annual import annual_report

    books = load_books(demo_ledger)
    cash = annual_report(books, 2025).statements.position.bank_balance
    assert bank_balance(books.entries, datetime.date(2025, 12, 31)) == cash
    assert bank_balance(books.entries, datetime.date.today()) != cash


def test_dashboard_outlook_card_of_an_open_year(demo_ledger, logged_in, app):
    """An open year's dashboard shows the share of its budget secured and the
    overdue pledges, the outlook report's own figures; a signed-off year none."""
    import datetime

    from app.web.dashboard import funding_outlook
    from ledger.loader import load_books
    from reports.outlook import outlook_report

    books = load_books(demo_ledger)
    card = funding_outlook(books, 2026, "preliminary")
    report = outlook_report(books, 2026)
    assert card["report"].secured == report.secured == report.received + report.outstanding_pledges
    assert card["secured_percent"] == (report.secured_share * 100).quantize(Decimal("0.1"))
    assert card["overdue_count"] == sum(1 for s in report.states if s.overdue) >= 1
    assert funding_outlook(books, 2025, "audited") is None
    page = logged_in(app, "committee").get(f"/?year={datetime.date.today().year}").get_data(as_text=True)
    assert 'id="outlook"' in page and "Budget secured" in page and "funding outlook</a>" in page
