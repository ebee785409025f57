"""The dashboard says whether every backup remote holds the books."""

from __future__ import annotations

import subprocess

from ledger.store import backup, gitrepo
from ledger.store.writer import write_plan


def test_the_dashboard_shows_whether_the_books_are_backed_up(app, logged_in, ledger, tmp_path):
    client = logged_in(app, "committee")
    assert "No backup remote: these books are on this disk only" in client.get("/").get_data(as_text=True)

    server = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(server)], check=True)
    backup.add(ledger, "backup-server", str(server))
    backup.push(ledger)
    page = client.get("/").get_data(as_text=True)
    assert f"Backup backup-server: level with the books at {gitrepo.head(ledger)[:12]}" in page
    assert "No backup remote" not in page

    server.rename(tmp_path / "gone.git")
    write_plan(ledger, "test:books", "a document", [], files=[("documents/note.txt", b"note\n")])
    page = client.get("/").get_data(as_text=True)
    assert '<p class="flash error">Backup backup-server: behind the books' in page
    assert "last push failed at" in page and "does not appear to be a git repository" in page
    (tmp_path / "gone.git").rename(server)
    assert backup.push(ledger)[0].level
    assert "flash error\">Backup" not in client.get("/").get_data(as_text=True)
