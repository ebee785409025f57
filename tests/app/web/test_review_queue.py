"""The review queue page as a reconciliation screen: States found by any
name, one-click accept (never of a conflict), several receipts in one
commit, undo, and messages that name the receipt by date, amount and payer
and keep what was typed."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from common.statements import camt053
from sqlalchemy import select

from app.web.db import AuditEvent, ReviewDecision

# August, after the test ledger's July (closing 107000.00): a French
# ministry (suggested, no conflict), the Spanish treasury paying from a German
# account (a conflict) and a payer nobody can place.
AUGUST = [
    {"ref": "W-1", "date": "2025-08-11", "amount": "3000.00", "name": "MINISTERE DES AFFAIRES ETRANGERES FRANCE",
     "text": "CONTRIBUTION ISU", "iban": "FR7630006000011234567890189"},
    {"ref": "W-2", "date": "2025-08-12", "amount": "4000.00", "name": "TESORO PUBLICO DE ESPANA", "text": "ISU 2025",
     "iban": "DE89370400440532013000"},
    {"ref": "W-3", "date": "2025-08-13", "amount": "1500.00", "name": "J DOE", "text": "GIFT"},
]
FRANCE = "2025-08-11, 3,000.00 CHF from MINISTERE DES AFFAIRES ETRANGERES FRANCE"


def import_statement(ledger, tmp_path, name, entries, opening):
    from importers.importing import import_files

    path = tmp_path / name
    path.write_text(camt053(entries, opening=opening, ident=name), encoding="utf-8")
    import_files(ledger, [path], user="test:import")


@pytest.fixture
def queue(ledger, tmp_path):
    """The test ledger with August imported: {payer: item} of the review queue."""
    from importers.review import list_items

    import_statement(ledger, tmp_path, "aug.xml", AUGUST, ("2025-07-31", "107000.00"))
    return {i["payer"]: i for i in list_items(ledger)}


def form(client, csrf, **fields):
    return {"csrf_token": csrf(client), **fields}


def problem(page: str) -> str:
    found = re.search(r'<p class="flash error" role="alert" id="problem">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def flashes(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash ok" role="status">(.*?)</p>', page, re.S)]


def commits(ledger) -> int:
    from ledger.store import gitrepo

    return int(gitrepo.run(ledger, "rev-list", "--count", "HEAD").strip())


def test_states_are_found_by_any_name(app, logged_in, login):
    anonymous = app.test_client()
    assert anonymous.get("/api/states?q=fr").status_code == 401
    client = logged_in(app, "committee")  # a harmless look-up: every signed-in role
    hits = client.get("/api/states?q=Alemania").get_json()
    assert hits[0] == {"code": "DEU", "name": "Germany", "matched": "Alemania", "label": "Germany (DEU)"}
    assert client.get("/api/states?q=Francia").get_json()[0]["code"] == "FRA"
    assert len(client.get("/api/states?q=a").get_json()) == 10
    assert client.get("/api/states").get_json() == []


def test_the_queue_shows_cards_with_facts_and_conflicts(app, logged_in, queue):
    page = logged_in(app, "finance").get("/review/").get_data(as_text=True)
    france, spain = queue["MINISTERE DES AFFAIRES ETRANGERES FRANCE"], queue["TESORO PUBLICO DE ESPANA"]
    assert "<table" not in page and 'class="receipts"' in page
    assert f'<button type="submit" name="accept" value="{france["id"]}" class="primary">Accept: France, work plan 2025</button>' in page
    assert "<li class=\"for\">Payer name matches France</li>" in page and "IBAN country: FR (France)" in page
    assert '<details class="why"><summary>Full reasoning</summary>' in page
    # The conflict: marked, explained, never one click away nor pre-filled.
    card = page[page.index(f'id="item-{spain["id"]}"'):]
    card = card[: card.index("</li>\n\n<li") if "</li>\n\n<li" in card else len(card)]
    assert "<strong>Conflict:</strong> Evidence points to Germany and Spain" in card
    assert 'name="accept"' not in card
    assert f'name="sp-{spain["id"]}" list="state-options" autocomplete="off" data-state-search value=""' in card
    assert 'src="/static/states.js"' in page
    # An auditor reads the queue but has nothing to press.
    audit = logged_in(app, "auditor").get("/review/").get_data(as_text=True)
    assert "Accept:" not in audit and "states.js" not in audit and "Payer name matches France" in audit


def test_accept_in_one_click(app, logged_in, csrf, queue, ledger):
    client = logged_in(app, "finance")
    france = queue["MINISTERE DES AFFAIRES ETRANGERES FRANCE"]
    r = client.post("/review/", data=form(client, csrf, accept=france["id"]))
    assert r.status_code == 303
    page = client.get("/review/").get_data(as_text=True)
    assert flashes(page) == [f"{FRANCE} is booked to France, work plan 2025."]
    assert f'id="item-{france["id"]}"' not in page
    with app.extensions["isu_db"]() as s:
        (decision,) = s.scalars(select(ReviewDecision)).all()
    assert (decision.state_party, decision.wp_year) == ("FRA", 2025)


def test_a_conflict_is_not_accepted(app, logged_in, csrf, queue, ledger, head):
    client = logged_in(app, "finance")
    spain = queue["TESORO PUBLICO DE ESPANA"]
    before = head(ledger)
    r = client.post("/review/", data=form(client, csrf, accept=spain["id"]))
    assert r.status_code == 400 and head(ledger) == before
    assert problem(r.get_data(as_text=True)) == (
        "2025-08-12, 4,000.00 CHF from TESORO PUBLICO DE ESPANA: no suggestion to accept in one click "
        "(Evidence points to Germany and Spain); name the State and year."
    )


@pytest.mark.parametrize("typed, year, said", [
    ("Suiza", "2025", "is booked to Switzerland, work plan 2025."),  # a name in any language
    ("NOR", "2026", "is booked to Norway as an advance for work plan 2026."),  # a code; a later year
])
def test_resolve_by_a_name_or_code(app, logged_in, csrf, queue, typed, year, said):
    client = logged_in(app, "finance")
    doe = queue["J DOE"]
    r = client.post("/review/", data=form(client, csrf, only=doe["id"], **{f"sp-{doe['id']}": typed, f"year-{doe['id']}": year}))
    assert r.status_code == 303
    assert flashes(client.get("/review/").get_data(as_text=True)) == [f"2025-08-13, 1,500.00 CHF from J DOE {said}"]


def test_a_refusal_keeps_what_was_typed_and_names_the_receipt(app, logged_in, csrf, queue, ledger, head):
    client = logged_in(app, "finance")
    doe = queue["J DOE"]
    before = head(ledger)
    fields = {f"sp-{doe['id']}": "Atlantis", f"year-{doe['id']}": "2024", f"remember-{doe['id']}": "1"}
    r = client.post("/review/", data=form(client, csrf, only=doe["id"], **fields))
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and head(ledger) == before
    assert problem(page) == "2025-08-13, 1,500.00 CHF from J DOE: No State Party or contributor is called 'Atlantis'."
    assert doe["id"] not in problem(page)
    assert f'name="sp-{doe["id"]}" list="state-options" autocomplete="off" data-state-search value="Atlantis"' in page
    assert f'name="year-{doe["id"]}" inputmode="numeric" size="5" maxlength="4" value="2024"' in page
    assert f'name="remember-{doe["id"]}" value="1" checked' in page
    # A shared name is refused too, naming the candidates.
    fields[f"sp-{doe['id']}"] = "Congo"
    r = client.post("/review/", data=form(client, csrf, only=doe["id"], **fields))
    assert "is the name of several: Democratic Republic of the Congo (COD), Congo (COG)" in problem(r.get_data(as_text=True))
    with app.extensions["isu_db"]() as s:
        refused = s.scalars(select(AuditEvent).where(AuditEvent.action == "review.resolve")).all()
    assert [e.outcome for e in refused] == ["refused", "refused"]


def test_several_receipts_in_one_commit(app, logged_in, csrf, queue, ledger):
    client = logged_in(app, "finance")
    doe, spain, france = queue["J DOE"], queue["TESORO PUBLICO DE ESPANA"], queue["MINISTERE DES AFFAIRES ETRANGERES FRANCE"]
    before = commits(ledger)
    # Accepting the suggestions of a selection with a conflict in it: refused, nothing written.
    r = client.post("/review/", data=form(client, csrf, bulk="accept", pick=[france["id"], spain["id"]]))
    assert r.status_code == 400 and "Evidence points to Germany and Spain" in problem(r.get_data(as_text=True))
    assert commits(ledger) == before
    # The same State and year for two receipts: one commit.
    r = client.post("/review/", data=form(client, csrf, bulk="resolve", pick=[doe["id"], spain["id"]],
                                          **{"bulk-sp": "Österreich", "bulk-year": "2025"}))
    assert r.status_code == 303 and commits(ledger) == before + 1
    assert flashes(client.get("/review/").get_data(as_text=True))[0] == "Resolved 2 receipts in one step."
    r = client.post("/review/", data=form(client, csrf, bulk="accept", pick=[france["id"]]))
    assert r.status_code == 303 and commits(ledger) == before + 2
    with app.extensions["isu_db"]() as s:
        decisions = s.scalars(select(ReviewDecision).order_by(ReviewDecision.id)).all()
    assert [d.state_party for d in decisions] == ["AUT", "AUT", "FRA"]
    assert decisions[0].commit == decisions[1].commit != decisions[2].commit
    # Nothing ticked: said plainly.
    r = client.post("/review/", data=form(client, csrf, bulk="resolve"))
    assert r.status_code == 400 and problem(r.get_data(as_text=True)) == "Tick the receipts to resolve first."


def test_undo_a_decision(app, logged_in, csrf, queue, ledger):
    client = logged_in(app, "finance")
    france = queue["MINISTERE DES AFFAIRES ETRANGERES FRANCE"]
    client.post("/review/", data=form(client, csrf, accept=france["id"]))
    with app.extensions["isu_db"]() as s:
        decision = s.scalars(select(ReviewDecision)).one()
    page = client.get("/review/").get_data(as_text=True)
    assert f"{FRANCE}: France, work plan 2025" in page and f'action="/review/undo/{decision.id}"' in page
    auditor = logged_in(app, "auditor")
    assert auditor.post(f"/review/undo/{decision.id}", data=form(auditor, csrf)).status_code == 403
    before = commits(ledger)
    r = client.post(f"/review/undo/{decision.id}", data=form(client, csrf))
    assert r.status_code == 303 and commits(ledger) == before + 1
    page = client.get("/review/").get_data(as_text=True)
    assert flashes(page) == [f"Undone: {FRANCE} is back in the review queue."]
    assert f'id="item-{france["id"]}"' in page and f'action="/review/undo/{decision.id}"' not in page
    r = client.post(f"/review/undo/{decision.id}", data=form(client, csrf))
    assert r.status_code == 400 and problem(r.get_data(as_text=True)) == f"{FRANCE}: the receipt is already back in the review queue"
    assert client.post("/review/undo/999", data=form(client, csrf)).status_code == 404
    with app.extensions["isu_db"]() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "review.undo").order_by(AuditEvent.id)).all()
    # the auditor's 403, the undo, the second undo, the unknown decision
    assert [e.outcome for e in events] == ["refused", "ok", "refused", "refused"] and events[1].commit


def test_the_api_lists_facts_and_undoes(app, logged_in, csrf, queue):
    client = logged_in(app, "finance")
    items = {i["payer"]: i for i in client.get("/api/review").get_json()}
    spain = items["TESORO PUBLICO DE ESPANA"]
    assert spain["label"] == "2025-08-12, 4,000.00 CHF from TESORO PUBLICO DE ESPANA"
    assert spain["suggestion"]["conflict"] == "Evidence points to Germany and Spain" and spain["suggestion"]["name"] == "Spain"
    assert {"kind": "against", "text": "Against it: IBAN country: DE (Germany)"} in spain["facts"]
    r = client.post(f"/api/review/{spain['id']}/resolve", json={"state_party": "ESP", "year": 2025}, headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 200
    with app.extensions["isu_db"]() as s:
        decision = s.scalars(select(ReviewDecision)).one()
    r = client.post(f"/api/review/decisions/{decision.id}/undo", headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 200 and r.get_json()["id"] == spain["id"] and r.get_json()["rule_forgotten"] is False
    assert spain["id"] in {i["id"] for i in client.get("/api/review").get_json()}


def test_a_signed_off_year_is_said_plainly(app, logged_in, csrf, queue, ledger, tmp_path):
    from ledger.finance.yearend import close_year, sign_off

    client = logged_in(app, "finance")
    for item in client.get("/api/review").get_json():
        client.post(f"/api/review/{item['id']}/resolve", json={"state_party": "CHE", "year": 2025}, headers={"X-CSRFToken": csrf(client)})
    with app.extensions["isu_db"]() as s:
        first = s.scalars(select(ReviewDecision).order_by(ReviewDecision.id)).first()
    close_year(ledger, 2025, user="test:fiona", today=datetime.date(2026, 2, 1))
    sign_off(ledger, 2025, "Aude Auditor", datetime.date(2026, 3, 1), user="test:aude", today=datetime.date(2026, 3, 2))
    r = client.post(f"/review/undo/{first.id}", data=form(client, csrf))
    assert r.status_code == 400 and "which is signed off: its attribution cannot be undone" in problem(r.get_data(as_text=True))

    import_statement(ledger, tmp_path, "jan.xml", [{"ref": "W-9", "date": "2026-01-15", "amount": "700.00", "name": "J DOE",
                                                   "text": "GIFT"}], ("2025-12-31", "115500.00"))
    (late,) = client.get("/api/review").get_json()
    r = client.post("/review/", data=form(client, csrf, only=late["id"], **{f"sp-{late['id']}": "Austria", f"year-{late['id']}": "2025"}))
    assert r.status_code == 303
    assert flashes(client.get("/review/").get_data(as_text=True)) == [
        "2025 is signed off, so 2026-01-15, 700.00 CHF from J DOE is booked in 2026 as a late contribution of Austria "
        "designated for 2025."]


def test_a_conflict_the_importer_marks_is_never_one_click(app, logged_in, csrf, queue, ledger, head, monkeypatch):
    from importers import review

    plain = review.ReviewItem.to_json

    def with_conflict(self):
        out = plain(self)
        if out["suggestion"]:
            out["suggestion"]["conflict"] = "the payer's name is also a ministry of Monaco"
        return out

    monkeypatch.setattr(review.ReviewItem, "to_json", with_conflict)
    client = logged_in(app, "finance")
    france = queue["MINISTERE DES AFFAIRES ETRANGERES FRANCE"]
    page = client.get("/review/").get_data(as_text=True)
    assert "<strong>Conflict:</strong> the payer&#39;s name is also a ministry of Monaco" in page
    assert 'name="accept"' not in page
    assert f'name="sp-{france["id"]}" list="state-options" autocomplete="off" data-state-search value=""' in page
    before = head(ledger)
    r = client.post("/review/", data=form(client, csrf, accept=france["id"]))
    assert r.status_code == 400 and head(ledger) == before
