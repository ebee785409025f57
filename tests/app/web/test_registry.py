"""Staff aliases through the web app (app/web/registry.py): an alias that
names no single contributor is refused, with its reason, and nothing is
written - so a payer nobody knows still goes to review."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from common.statements import camt053

# The aliases of the attack on the demo books (issue 13), and one per rule.
REFUSED = [
    ("ISU", "is contribution wording"),
    ("GENEVA", "is generic"),
    ("CONTRIBUTION", "is contribution wording"),
    ("A", "is too short"),
    ("UN", "is generic"),
    ("REPUBLIC OF", "is generic"),
    ("Permanent Mission Geneva", "is generic"),
    ("SVK", "is too short"),
    ("Norway", "names NOR (Norway)"),
]
UNKNOWN = "UNKNOWN DONOR GENEVA"


@pytest.mark.parametrize(("alias", "reason"), REFUSED)
def test_the_api_refuses_an_alias_with_its_reason(csrf, logged_in, head, app, ledger, alias, reason):
    client = logged_in(app, "finance")
    before, registry = head(ledger), (ledger / "registry/contributors.csv").read_bytes()
    r = client.post("/api/registry/SVK/aliases", json={"alias": alias}, headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error.startswith(f"alias {alias!r} {reason}") and error.isprintable()
    assert head(ledger) == before and (ledger / "registry/contributors.csv").read_bytes() == registry


def test_the_form_refuses_an_alias_with_its_reason(logged_in, head, app, ledger):
    client = logged_in(app, "finance")
    before = head(ledger)
    r = client.post("/registry/alias", data={"csrf_token": client.get("/api/csrf").get_json()["csrf_token"], "iso3": "SVK", "alias": "GENEVA"},
                    follow_redirects=True)
    assert r.status_code == 200 and "alias &#39;GENEVA&#39; is generic" in r.get_data(as_text=True)
    assert head(ledger) == before


def test_after_the_refusals_an_unknown_payer_in_geneva_still_goes_to_review(csrf, logged_in, head, app, ledger):
    client = logged_in(app, "finance")
    for alias, _ in REFUSED:
        assert client.post("/api/registry/SVK/aliases", json={"alias": alias}, headers={"X-CSRFToken": csrf(client)}).status_code == 400
    statement = camt053([{"ref": "APP-0805", "date": "2025-08-05", "amount": "1500.00", "name": UNKNOWN, "text": "ISU 2025 CONTRIBUTION"}],
                        opening=("2025-07-31", "107000.00"), closing=("2025-08-31", "108500.00"), ident="S-2025-08")
    r = client.post("/api/imports", data={"files": (io.BytesIO(statement.encode()), "aug.xml")}, headers={"X-CSRFToken": csrf(client)},
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/imports/{r.get_json()['id']}/confirm", headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 200 and r.get_json()["status"] == "booked", r.get_json()
    items = [item for item in client.get("/api/review").get_json() if item["payer"] == UNKNOWN]
    assert len(items) == 1 and items[0]["suggestion"] != "SVK", items


def test_without_the_guard_the_unknown_payer_would_be_attributed(ledger):
    """Why the guard matters: the alias GENEVA, once in the registry (as the
    unguarded API wrote it), attributes the unknown payer with no review."""
    from importers.identify import identify
    from importers.model import Detail, Entry
    from ledger.registry import Registry

    booked = datetime.date(2025, 8, 5)
    detail = Detail(amount=Decimal("1500.00"), currency="CHF", payer=UNKNOWN, remittance="ISU 2025 CONTRIBUTION")
    entry = Entry(Decimal("1500.00"), "CHF", booked, booked, "BOOK", details=[detail])
    clean = identify(detail, entry, registry=Registry.load(ledger), rules=[], booking_date=booked)
    poisoned = identify(detail, entry, registry=Registry.from_csv_text("iso3,aliases\nSVK,GENEVA\n"), rules=[], booking_date=booked)
    assert clean.needs_review and clean.state_party is None
    assert not poisoned.needs_review and poisoned.state_party == "SVK"
