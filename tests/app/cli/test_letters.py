"""``isu-ledger letters`` and ``isu-ledger registry language`` over a copy of
the demo books: each letter written once, as a PDF whose SHA-256 the audit
log records; a State's language set in one commit or refused in one line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from common.cli import cli, head
from sqlalchemy import select

from ledger import conventions
from ledger.registry import Registry


@pytest.fixture
def books(demo_ledger, tmp_path, monkeypatch) -> Path:
    """A private copy of the demo books, with its own (new) SQLite database."""
    monkeypatch.delenv("ISU_DATABASE_URL", raising=False)
    target = tmp_path / "books"
    shutil.copytree(demo_ledger, target, ignore=shutil.ignore_patterns("*.sqlite3", "*.picklecache"))
    return target


def database(books: Path):
    from app.web.db import default_url, open_database

    return open_database(default_url(books.resolve()))()


# --- registry language -----------------------------------------------------------------


def test_registry_language_is_one_commit(books):
    before = head(books)
    code, out, err = cli(books, "registry", "language", "aut", "FR")
    assert (code, err) == (0, "")
    assert out.startswith("AUT: letters in fr (commit ")
    assert head(books) != before
    assert Registry.load(books).get("AUT").language == "fr"
    text = (books / conventions.REGISTRY_FILE).read_text(encoding="utf-8")
    assert text.splitlines()[0].endswith(",language")
    code, out, _ = cli(books, "registry", "language", "AUT", "fr")
    assert (code, out.strip()) == (0, "AUT: letters already in fr; nothing written")
    code, _, _ = cli(books, "check")
    assert code == 0


@pytest.mark.parametrize("args, message", [
    (("XYZ", "fr"), "isu-ledger: XYZ: not a contributor in the registry"),
    (("AUT", "de"), "isu-ledger: de: not a letter language (en, fr, es)"),
    (("AUT", ""), "isu-ledger: (empty): not a letter language (en, fr, es)"),
])
def test_registry_language_refused_in_one_line(books, args, message):
    before = head(books)
    registry = (books / conventions.REGISTRY_FILE).read_bytes()
    code, out, err = cli(books, "registry", "language", *args)
    assert (code, out, err) == (2, "", message + "\n")
    assert head(books) == before and (books / conventions.REGISTRY_FILE).read_bytes() == registry


# --- letters ----------------------------------------------------------------------------------


def test_letters_are_written_once_and_audited(books, tmp_path):
    out_dir = tmp_path / "letters"
    code, out, err = cli(books, "letters", "--year", "2026", "--kind", "reminder", "-o", str(out_dir))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    files = sorted(out_dir.glob("*.pdf"))
    assert len(files) >= 3 and sorted(lines[:-1]) == sorted(str(f) for f in files)
    assert lines[-1] == f"{len(files)} reminder letter(s) written to {out_dir}, 0 already written"
    assert {f.name.rsplit("-", 1)[1] for f in files} >= {"en.pdf", "fr.pdf", "es.pdf"}
    from app.web.db import AuditEvent, GeneratedLetter

    with database(books) as s:
        rows = s.scalars(select(GeneratedLetter)).all()
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "letter.generate")).all()
    assert len(rows) == len(events) == len(files)
    for f in files:
        sha = hashlib.sha256(f.read_bytes()).hexdigest()
        assert any(e.detail.endswith(f"sha256 {sha}: {f.name}") and e.outcome == "ok" and e.commit == head(books)
                   for e in events)
        assert any(r.sha256 == sha and r.content == f.read_bytes() for r in rows)

    # The second run writes nothing and says why; --again writes them again.
    for f in files:
        f.unlink()
    code, out, _ = cli(books, "letters", "--year", "2026", "--kind", "reminder", "-o", str(out_dir))
    assert code == 0 and not list(out_dir.glob("*.pdf"))
    skipped = out.splitlines()[:-1]
    assert len(skipped) == len(files) and all(line.startswith("skipped reminder P-2026-") and
                                              line.endswith("--again writes it again") for line in skipped)
    assert out.splitlines()[-1] == f"0 reminder letter(s) written to {out_dir}, {len(files)} already written"
    code, out, _ = cli(books, "letters", "--year", "2026", "--kind", "reminder", "-o", str(out_dir), "--again", "--json")
    result = json.loads(out)
    assert code == 0 and result["written"] == len(files) and result["skipped"] == 0
    assert {row["status"] for row in result["letters"]} == {"written"}
    assert all(row["amount"].count(".") == 1 and len(row["amount"].split(".")[1]) == 2 and row["currency"] == "CHF"
               and row["date"].startswith("2026-") for row in result["letters"])
    assert sorted(row["file"] for row in result["letters"]) == sorted(str(f) for f in out_dir.glob("*.pdf"))
    with database(books) as s:
        assert len(s.scalars(select(GeneratedLetter)).all()) == 2 * len(files)


def test_a_broken_staff_template_writes_nothing(books, tmp_path):
    own = books / "letters" / "templates" / "es"
    own.mkdir(parents=True)
    (own / "acknowledgement.txt").write_text("{{ importe }}\n", encoding="utf-8")
    out_dir = tmp_path / "letters"
    code, out, err = cli(books, "letters", "--year", "2026", "--kind", "acknowledgement", "-o", str(out_dir))
    assert (code, out) == (2, "")
    assert err == "isu-ledger: letters/templates/es/acknowledgement.txt: 'importe' is undefined\n"
    assert not out_dir.exists()
    from app.web.db import GeneratedLetter

    with database(books) as s:
        assert s.scalars(select(GeneratedLetter)).all() == []


def test_letters_need_a_kind_and_books(tmp_path):
    code, _, err = cli(tmp_path / "none", "letters", "--year", "2026", "--kind", "thanks", "-o", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "thanks" in err
    code, _, err = cli(tmp_path / "none", "letters", "--year", "2026", "--kind", "reminder", "-o", str(tmp_path))
    assert code == 2 and err == f"isu-ledger: {tmp_path / 'none'}: no ledger here (run 'isu-ledger init' first)\n"
