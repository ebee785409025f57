"""``isu-ledger backup add|remove|push|status`` and the backup warnings of ``check``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ledger.store import gitrepo


def bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


def test_backup_commands(ledger, tmp_path, cli):
    code, out, _ = cli(ledger, "backup", "status")
    assert (code, out.endswith("no backup remote (isu-ledger backup add NAME URL)\n")) == (0, True)
    code, _, err = cli(ledger, "backup", "push")
    assert code == 2 and "no backup remote" in err

    usb = bare(tmp_path / "usb.git")
    code, out, err = cli(ledger, "backup", "add", "backup-usb", str(usb))
    head = gitrepo.head(ledger)
    assert (code, out, err) == (0, f"backup-usb: added\nbackup-usb: level with the books at {head[:12]}\n", "")

    code, out, err = cli(ledger, "backup", "add", "backup-gone", str(tmp_path / "missing.git"))
    assert code == 1 and out.startswith("backup-gone: added\n")  # added; its first push failed
    assert f"backup-gone: behind the books (never pushed, books at {head[:12]}); last push failed at " in out
    code, out, _ = cli(ledger, "backup", "status")
    assert code == 1 and out.splitlines()[1] == f"backup-usb: level with the books at {head[:12]}"
    code, _, err = cli(ledger, "check")
    assert code == 0 and err.startswith("warning: backup remote backup-gone: behind the books")

    code, out, err = cli(ledger, "backup", "remove", "backup-gone")
    assert (code, out) == (0, "backup-gone: removed (what it holds stays there)\n")
    assert cli(ledger, "backup", "status")[0] == 0
    code, _, err = cli(ledger, "backup", "add", "mirror", str(usb))
    assert code == 2 and err.count("\n") == 1 and "named 'backup' or 'backup-NAME'" in err
    code, _, err = cli(ledger, "check")
    assert (code, err) == (0, "")


def test_a_directory_without_books_is_refused_even_inside_a_repository(tmp_path, cli):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # some repository around it
    books = tmp_path / "books"
    books.mkdir()
    for argv in (["status"], ["push"], ["add", "backup", str(tmp_path / "x.git")], ["remove", "backup"]):
        code, out, err = cli(books, "backup", *argv)
        assert (code, out, err) == (2, "", f"isu-ledger: {books}: no ledger here (run 'isu-ledger init' first)\n")
    assert gitrepo.run(tmp_path, "remote") == ""
