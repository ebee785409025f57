"""The letters page (app/web/letters.py) over the app tests' ledger: the
Slovak receipt of July 2025 is acknowledged once, in the registry's
language, its PDF downloaded as an attachment with the SHA-256 the audit log
records; a second click writes nothing unless "Write again"."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

KEY = "APP-0702/SVK"


def token(client) -> str:
    return client.get("/api/csrf").get_json()["csrf_token"]


def write(client, **fields):
    data = {"csrf_token": token(client), "year": "2025", "kind": "acknowledgement", **fields}
    return client.post("/letters/generate", data=data, follow_redirects=True)


def rows(app, model):
    with app.extensions["isu_db"]() as s:
        return s.scalars(select(model).order_by(model.id)).all()


def test_the_page_lists_the_receipt_to_acknowledge(logged_in, app):
    page = logged_in(app, "finance").get("/letters/?year=2025").get_data(as_text=True)
    assert "Acknowledgements of receipts" in page and "Reminders of overdue pledges" in page
    assert "Slovakia (SVK)" in page and "APP-0702" in page and "English" in page and "not written" in page
    assert 'href="/letters/"' in page and 'aria-current="page"' in page  # the nav link


def test_a_letter_is_written_once_audited_and_downloaded_as_an_attachment(logged_in, app, head, ledger):
    from app.web.db import AuditEvent, GeneratedLetter

    client = logged_in(app, "finance")
    before = head(ledger)
    r = write(client, key=KEY)
    assert r.status_code == 200 and "1 letter written." in r.get_data(as_text=True)
    (letter,) = rows(app, GeneratedLetter)
    assert (letter.kind, letter.key, letter.state_party, letter.language, letter.user_name) == (
        "acknowledgement", KEY, "SVK", "en", "finance")
    page = client.get("/letters/?year=2025").get_data(as_text=True)
    link = f"/letters/{letter.id}.pdf"
    assert link in page and letter.sha256[:12] in page and "Write again" in page
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="{letter.filename}"'
    assert pdf.data.startswith(b"%PDF-") and hashlib.sha256(pdf.data).hexdigest() == letter.sha256
    events = [e for e in rows(app, AuditEvent) if e.action == "letter.generate"]
    assert len(events) == 1 and events[0].user_name == "finance" and events[0].outcome == "ok"
    assert events[0].detail == f"acknowledgement {KEY} SVK 2025 en sha256 {letter.sha256}: {letter.filename}"
    assert events[0].commit == head(ledger) == before  # written from this commit; the books unchanged

    # Not twice, unless asked.
    r = write(client, key=KEY)
    assert "0 letters written. 1 already written before" in r.get_data(as_text=True)
    r = write(client)
    assert "0 letters written. 1 already written before" in r.get_data(as_text=True)
    assert len(rows(app, GeneratedLetter)) == 1
    r = write(client, key=KEY, again="1")
    assert "1 letter written." in r.get_data(as_text=True)
    assert len(rows(app, GeneratedLetter)) == 2
    assert len([e for e in rows(app, AuditEvent) if e.action == "letter.generate"]) == 2


def test_the_letter_is_in_the_states_language(logged_in, app, ledger):
    from app.web.db import GeneratedLetter
    from ledger.registry_language import set_language

    set_language(ledger, "SVK", "es", "test:staff")
    client = logged_in(app, "admin")
    assert "Spanish" in client.get("/letters/?year=2025").get_data(as_text=True)
    write(client)
    (letter,) = rows(app, GeneratedLetter)
    assert letter.language == "es" and letter.filename.endswith("-es.pdf")


def test_refusals_are_one_line_and_audited(logged_in, app):
    from app.web.db import AuditEvent, GeneratedLetter

    client = logged_in(app, "finance")
    r = write(client, key="NOPE/XXX")
    assert "NOPE/XXX: no such acknowledgement for 2025" in r.get_data(as_text=True)
    r = write(client, kind="<script>")
    body = r.get_data(as_text=True)
    assert "&lt;script&gt;: not a kind of letter" in body and "<script>:" not in body
    assert rows(app, GeneratedLetter) == []
    refused = [e for e in rows(app, AuditEvent) if e.outcome == "refused" and e.action.startswith("letters")]
    assert len(refused) == 2


def test_a_broken_staff_template_is_refused(logged_in, app, ledger):
    from app.web.db import GeneratedLetter

    own = ledger / "letters" / "templates" / "en"
    own.mkdir(parents=True)
    (own / "acknowledgement.txt").write_text("{{ amout }}\n", encoding="utf-8")
    r = write(logged_in(app, "finance"), key=KEY)
    assert "letters/templates/en/acknowledgement.txt: &#39;amout&#39; is undefined" in r.get_data(as_text=True)
    assert rows(app, GeneratedLetter) == []


def test_other_roles_cannot_download(logged_in, app):
    from app.web.db import GeneratedLetter

    write(logged_in(app, "finance"), key=KEY)
    (letter,) = rows(app, GeneratedLetter)
    for role in ("auditor", "committee"):
        client = logged_in(app, role)
        assert client.get(f"/letters/{letter.id}.pdf").status_code == 403
        assert not re.search(r'href="/letters/"', client.get("/").get_data(as_text=True))


def test_staff_set_a_states_language_on_the_registry_page(logged_in, app, head, ledger):
    from ledger.registry import Registry

    client = logged_in(app, "finance")
    before = head(ledger)
    r = client.post("/registry/language", data={"csrf_token": token(client), "iso3": "svk", "language": "fr"},
                    follow_redirects=True)
    assert "Letters to SVK will be written in French." in r.get_data(as_text=True)
    assert head(ledger) != before and Registry.load(ledger).get("SVK").language == "fr"
    assert ">French</span>" in client.get("/registry/?q=SVK").get_data(as_text=True)
    after = head(ledger)
    for iso3, language, message in (("SVK", "de", "de: not a letter language (en, fr, es)"),
                                    ("XYZ", "fr", "XYZ: not a contributor in the registry")):
        r = client.post("/registry/language", data={"csrf_token": token(client), "iso3": iso3, "language": language},
                        follow_redirects=True)
        assert message in r.get_data(as_text=True)
    assert head(ledger) == after
