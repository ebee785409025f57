"""Undoing an import batch in the web app (a confirmation page, then one
ledger commit, audited, the batch marked undone), its refusals, and the
preview as the exact booking: every entry signed, totals, balance proofs, FX."""

from __future__ import annotations

import io
import re

from common.statements import GERMANY, camt053
from sqlalchemy import select

from app.web.db import AuditEvent, ImportBatch

# September: a receipt in euros (FX) and the bank's charges (a debit).
SEPTEMBER = camt053(
    [
        {"ref": "APP-0901", "date": "2025-09-03", "amount": "9412.50", **GERMANY, "text": "ISU 2025 CORE WORK PLAN",
         "instructed": ("10000.00", "EUR", "0.94125")},
        {"ref": "APP-0902", "date": "2025-09-30", "amount": "-35.40", "name": "UBS SWITZERLAND AG", "text": "ACCOUNT CHARGES"},
    ],
    opening=("2025-08-31", "108500.00"),
    ident="S-2025-09",
)


def upload(client, name: str, content: str):
    token = client.get("/api/csrf").get_json()["csrf_token"]
    return client.post("/import/", data={"csrf_token": token, "files": (io.BytesIO(content.encode()), name)},
                       content_type="multipart/form-data")


def book(client, csrf, name: str, content: str) -> int:
    where = upload(client, name, content).headers["Location"]
    done = client.post(f"{where}/confirm", data={"csrf_token": csrf(client)})
    assert done.status_code == 302, done.get_data(as_text=True)
    return int(where.rstrip("/").rsplit("/", 1)[1])


def batch(app, batch_id: int) -> ImportBatch:
    with app.extensions["isu_db"]() as s:
        return s.get(ImportBatch, batch_id)


def test_undo_a_batch_after_a_confirmation_and_import_it_again(august_statement, csrf, logged_in, head, app, ledger):
    client = logged_in(app, "finance")
    before = head(ledger)
    year_file = (ledger / "txns/2025.beancount").read_bytes()
    batch_id = book(client, csrf, "aug.xml", august_statement)
    booked = batch(app, batch_id).commit
    page = client.get(f"/import/{batch_id}").get_data(as_text=True)
    assert f'href="/import/{batch_id}/undo">Undo this import…</a>' in page
    assert f'href="/import/{batch_id}/undo">Undo this import…</a>' in client.get("/import/").get_data(as_text=True)

    confirm = client.get(f"/import/{batch_id}/undo").get_data(as_text=True)  # the confirmation step writes nothing
    assert "Undoing takes every entry this import booked" in confirm and ">Undo this import</button>" in confirm
    assert head(ledger) == booked

    done = client.post(f"/import/{batch_id}/undo", data={"csrf_token": csrf(client)})
    assert done.status_code == 302
    undone = batch(app, batch_id)
    assert undone.status == "undone" and undone.undo_commit == head(ledger) != booked and undone.undone_at
    assert (ledger / "txns/2025.beancount").read_bytes() == year_file
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Import {batch_id} undone" in page and "Undo this import" not in page
    with app.extensions["isu_db"]() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "import.undo")).one()
    assert event.outcome == "ok" and event.commit == undone.undo_commit and f"of commit {booked[:12]}" in event.detail

    again = client.post(f"/import/{batch_id}/undo", data={"csrf_token": csrf(client)})
    assert again.status_code == 409 and "was undone already" in again.get_data(as_text=True)
    assert head(ledger) == undone.undo_commit

    second = book(client, csrf, "aug.xml", august_statement)  # the same file imports again
    assert batch(app, second).result["imported"] == 1
    from ledger.store import gitrepo

    assert gitrepo.run(ledger, "diff", "--stat", booked, batch(app, second).commit).strip() == ""
    assert before != head(ledger)


def test_undo_is_refused_in_plain_words_with_no_button(august_statement, csrf, logged_in, head, app, ledger):
    client = logged_in(app, "finance")
    august = book(client, csrf, "aug.xml", august_statement)
    september = book(client, csrf, "sep.xml", SEPTEMBER)
    after = head(ledger)
    page = client.get(f"/import/{august}/undo").get_data(as_text=True)
    assert (f"batch {august} cannot be undone: batch {september} (sep.xml) "
            "continues from its closing balance; undo that first. Nothing was changed.") in page
    assert "Undo this import</button>" not in page
    r = client.post(f"/import/{august}/undo", data={"csrf_token": csrf(client)})
    assert r.status_code == 409 and head(ledger) == after and batch(app, august).status == "booked"
    with app.extensions["isu_db"]() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "import.undo")).one()
    assert event.outcome == "refused"
    # By its commit on the command line (no web database here): named by its files, not its label.
    from common.cli import cli

    booked = batch(app, august).commit
    code, _, err = cli(ledger, "import-undo", booked)
    assert code == 2 and err.startswith(f"isu-ledger: the import {booked[:12]} (aug.xml) cannot be undone: "), err

    # After September is undone, a review decision on August's receipt still stops it.
    assert client.post(f"/api/imports/{september}/undo", headers={"X-CSRFToken": csrf(client)}).status_code == 200
    item = next(i for i in client.get("/api/review").get_json() if i["payer"] == "J DOE")
    r = client.post("/api/review/resolve", json={"items": [{"id": item["id"], "state_party": "CHE", "year": 2025}]},
                    headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 200, r.get_data(as_text=True)
    page = client.get(f"/import/{august}/undo").get_data(as_text=True)
    assert "review decisions were made on its receipts since: 2025-08-05 1500.00 CHF J DOE (bank ref APP-0801)" in page
    assert "Undo this import</button>" not in page


def test_committee_and_auditor_cannot_undo(august_statement, csrf, logged_in, app, ledger, head):
    batch_id = book(logged_in(app, "finance"), csrf, "aug.xml", august_statement)
    for role in ("auditor", "committee"):
        client = logged_in(app, role)
        assert client.post(f"/import/{batch_id}/undo", data={"csrf_token": csrf(client)}).status_code == 403
    assert batch(app, batch_id).status == "booked"


def test_the_preview_is_the_exact_booking(august_statement, csrf, logged_in, app, ledger):
    client = logged_in(app, "finance")
    book(client, csrf, "aug.xml", august_statement)
    page = client.get(upload(client, "sep.xml", SEPTEMBER).headers["Location"]).get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    text = " ".join(text.split())
    assert "2025-09-30 -35.40 UBS SWITZERLAND AG" in text  # the bank's charges, signed
    assert "2025-09-03 9,412.50 FEDERAL FOREIGN OFFICE" in text
    assert "10000.00 EUR at 0.94125" in text  # FX as the bank gave it
    assert "credits 9,412.50" in text and "debits -35.40" in text and "net 9,377.10" in text
    assert "✓ 108,500.00 + 9,377.10 = 117,877.10" in text
    assert 'class="date"' in page and "style=" not in page.split("<main", 1)[1]
    assert "Confirm and book" in page
    # why each receipt was identified: plain facts, the importer's own line one click away
    facts = re.findall(r'<ul class="facts">(.*?)</ul>', page, re.S)
    assert facts and "Germany" in facts[0] and "->" not in " ".join(facts) and "score" not in " ".join(facts)
    assert '<details class="why"><summary>Full reasoning</summary>' in page


def test_a_preview_the_books_would_refuse_says_so_and_offers_no_confirm(csrf, logged_in, app, ledger, head):
    client = logged_in(app, "finance")
    before = head(ledger)
    r = upload(client, "sep.xml", SEPTEMBER)  # August is missing: September does not continue the books
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and head(ledger) == before
    assert "The books would refuse this import, so there is nothing to confirm: sep.xml: statement S-2025-09: gap:" in page
    assert "Confirm and book" not in page


def test_a_preview_runs_the_bookings_own_ledger_check(august_statement, csrf, logged_in, app, ledger, head):
    """What only the writer's check after the write would find (here: the
    charges go to an account closed in the books) refuses the preview too."""
    from ledger.store.writer import LedgerWriter

    with LedgerWriter(ledger, "test", "close the clearing account") as writer:
        text = (ledger / "accounts.beancount").read_text(encoding="utf-8")
        writer.write_text("accounts.beancount", text + "\n2025-08-01 close Assets:Clearing:Unreconciled\n")
    client = logged_in(app, "finance")
    book(client, csrf, "aug.xml", august_statement)
    before = head(ledger)
    r = upload(client, "sep.xml", SEPTEMBER)
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and head(ledger) == before
    assert "The books would refuse this import, so there is nothing to confirm: refused: the change fails the ledger check" in page
    assert "Confirm and book" not in page
    with app.extensions["isu_db"]() as s:
        assert s.scalars(select(ImportBatch).where(ImportBatch.status == "previewed")).all() == []


def test_the_command_line_undoes_a_web_batch_by_its_number(august_statement, csrf, logged_in, app, ledger, head,
                                                            database_url, monkeypatch):
    from common.cli import cli

    batch_id = book(logged_in(app, "finance"), csrf, "aug.xml", august_statement)
    booked = batch(app, batch_id).commit
    monkeypatch.setenv("ISU_DATABASE_URL", database_url)
    code, out, err = cli(ledger, "import-undo", str(batch_id))
    assert code == 0, err
    assert f"undo of import {booked[:12]}: removed 3 entries" in out
    undone = batch(app, batch_id)
    assert undone.status == "undone" and undone.undo_commit == head(ledger)
    code, _, err = cli(ledger, "import-undo", str(batch_id))
    assert code == 2 and err.strip() == f"isu-ledger: batch {batch_id} was undone already (commit {head(ledger)[:12]})"
