"""The web shell: status page over the books, Fava mounted read-only at /fava/."""

from __future__ import annotations

from werkzeug.test import Client

from app import create_app, create_wsgi


def test_status_page_shows_the_books(ledger_dir):
    client = create_app({"LEDGER_DIR": ledger_dir, "TESTING": True}).test_client()
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "612,408.15 CHF" in text
    assert "Receipts awaiting review" in text
    assert "init" in text  # last commit


def test_fava_is_mounted_read_only(ledger_dir):
    client = Client(create_wsgi({"LEDGER_DIR": ledger_dir}))
    first = client.get("/fava/")
    assert first.status_code == 302
    target = first.headers["Location"]
    assert target.startswith("/fava/")
    page = client.get(target)
    assert page.status_code == 200
    assert "ISU" in page.get_data(as_text=True)
    # Read-only: Fava refuses every write API (source edits, uploads, entry adds).
    slug = target.split("/")[2]
    before = (ledger_dir / "main.beancount").read_bytes()
    put = client.put(
        f"/fava/{slug}/api/source",
        json={"file_path": str(ledger_dir / "main.beancount"), "source": "evil", "sha256sum": ""},
    )
    assert put.status_code >= 400
    assert (ledger_dir / "main.beancount").read_bytes() == before


def test_create_app_needs_a_ledger_dir():
    import pytest

    with pytest.raises(ValueError):
        create_app({})
