"""The web form for finance staff's explanation of a budget variance
(Statement IV): one commit with the text on one line, refused in plain
words for an unknown line or an empty text (nothing written), escaped on
the page, recorded in the audit log; other roles are refused."""

from __future__ import annotations

from sqlalchemy import select

from app.web.db import AuditEvent
from ledger.finance.budgets import variance_explanations
from ledger.loader import load_books


def _explain(client, csrf, **data):
    return client.post("/uploads/budget/explain", data={**data, "csrf_token": csrf(client)})


def _budget(cli, ledger):
    code, _, err = cli(ledger, "budget", "set", "--year", "2025", "--line", "Travel", "--amount", "50000",
                       "--decision", "MSP22 decision 5")
    assert code == 0, err


def test_finance_records_an_explanation(cli, csrf, logged_in, head, app, ledger):
    _budget(cli, ledger)
    finance = logged_in(app, "finance")
    page = finance.get("/uploads/").get_data(as_text=True)
    assert "Explain a budget variance" in page and "<option>Travel</option>" in page
    before = head(ledger)
    r = _explain(finance, csrf, year="2025", line="Travel", text="Missions held online\n<script>x</script>")
    assert r.status_code == 303 and r.headers["Location"].endswith("/uploads/#explain")
    assert head(ledger) != before
    explained = variance_explanations(load_books(ledger).entries, 2025)
    assert explained == {"Expenses:Budget:Travel": "Missions held online <script>x</script>"}
    page = finance.get("/uploads/").get_data(as_text=True)
    assert "Travel 2025: variance explained" in page and "<script>x" not in page
    with app.extensions["isu_db"]() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "budget.explain")).all()
    assert [(e.outcome, e.commit == head(ledger)) for e in events] == [("ok", True)]


def test_bad_explanations_are_refused_and_nothing_written(cli, csrf, logged_in, head, app, ledger):
    _budget(cli, ledger)
    finance = logged_in(app, "finance")
    before = head(ledger)
    _explain(finance, csrf, year="2025", line="Champagne", text="why not")
    assert "Champagne: not a budget line (lines: " in finance.get("/uploads/").get_data(as_text=True)
    _explain(finance, csrf, year="2025", line="Travel", text="   ")
    assert "Explanation: say why the actual amount differs" in finance.get("/uploads/").get_data(as_text=True)
    assert _explain(finance, csrf, year="twenty", line="Travel", text="x").status_code == 400
    assert head(ledger) == before


def test_only_finance_and_admin(cli, csrf, logged_in, head, app, ledger):
    _budget(cli, ledger)
    before = head(ledger)
    for role in ("auditor", "committee"):
        assert _explain(logged_in(app, role), csrf, year="2025", line="Travel", text="x").status_code == 403
    assert head(ledger) == before
