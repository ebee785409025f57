"""Backup remotes (ledger.store.backup): after each commit the writer pushes
the books to every ``backup``/``backup-*`` git remote; a remote that fails,
hangs or is killed mid-push never fails a booking, shows as behind with
its reason, and is brought level by the next commit or ``backup push``.
Real git, real bare repositories, real processes killed."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ledger.store import backup, gitrepo
from ledger.store.writer import write_plan


def bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


def remote_head(remote: Path) -> str | None:
    out = subprocess.run(["git", "--git-dir", str(remote), "rev-parse", "--verify", "-q", "refs/heads/main"],
                         capture_output=True, text=True)
    return out.stdout.strip() or None


def book(ledger: Path, n: int = 1) -> str:
    """One commit through the ledger writer."""
    commit = write_plan(ledger, "test:backup", f"note {n}", [], files=[(f"documents/note-{n}.txt", f"note {n}\n".encode())])
    assert commit is not None
    return commit


@pytest.fixture
def books(ledger_dir) -> Path:
    """New books (isu-ledger init), a git repository without remotes."""
    return ledger_dir


def test_names_and_urls_are_checked(books, tmp_path):
    with pytest.raises(backup.BackupRefused, match="named 'backup' or 'backup-NAME'"):
        backup.add(books, "origin", str(tmp_path / "x.git"))
    with pytest.raises(backup.BackupRefused, match="not a git URL"):
        backup.add(books, "backup-usb", "--upload-pack=touch /tmp/owned")
    backup.add(books, "backup-usb", str(bare(tmp_path / "usb.git")))
    with pytest.raises(backup.BackupRefused, match="already a backup remote"):
        backup.add(books, "backup-usb", str(tmp_path / "other.git"))
    gitrepo.run(books, "remote", "add", "origin", str(tmp_path / "elsewhere.git"))
    assert list(backup.remotes(books)) == ["backup-usb"]  # other remotes are not backups
    backup.remove(books, "backup-usb")
    assert backup.remotes(books) == {}
    with pytest.raises(backup.BackupRefused, match="no such backup remote"):
        backup.remove(books, "backup-usb")


def test_each_commit_is_pushed_to_every_backup_remote(books, tmp_path):
    usb, server = bare(tmp_path / "usb.git"), bare(tmp_path / "server.git")
    backup.add(books, "backup", str(usb))
    backup.add(books, "backup-server", str(server))
    assert [r.level for r in backup.status(books)] == [False, False]  # added, never pushed
    commit = book(books)
    assert remote_head(usb) == remote_head(server) == commit == gitrepo.head(books)
    assert all(r.level and r.error is None for r in backup.status(books))
    assert backup.status(books)[0].line() == f"backup: level with the books at {commit[:12]}"


def test_a_remote_that_is_gone_never_blocks_booking_and_the_next_commit_brings_it_level(books, tmp_path):
    usb = bare(tmp_path / "usb.git")
    backup.add(books, "backup-usb", str(usb))
    first = book(books, 1)
    usb.rename(tmp_path / "unplugged.git")  # the disk is unplugged
    second = book(books, 2)  # booked all the same
    assert gitrepo.head(books) == second
    (remote,) = backup.status(books)
    assert not remote.level and remote.pushed == first
    assert "does not appear to be a git repository" in remote.error and remote.failed_at
    assert "behind the books" in remote.line() and "last push failed" in remote.line()
    (tmp_path / "unplugged.git").rename(usb)  # plugged in again
    third = book(books, 3)  # the retry is the next commit's push
    assert remote_head(usb) == third
    (remote,) = backup.status(books)
    assert remote.level and remote.error is None


def _hanging_receive_pack(tmp_path: Path) -> tuple[Path, Path]:
    """A remote-side receive-pack that records its pid and hangs (a server
    that stops answering mid-push)."""
    pid_file = tmp_path / "receive-pack.pid"
    script = tmp_path / "hanging-receive-pack"
    script.write_text(f'#!/bin/sh\necho $$ > "{pid_file}"\nexec sleep 300\n')
    script.chmod(0o755)
    return script, pid_file


def test_a_remote_killed_mid_push_loses_nothing(books, tmp_path, cli):
    server = bare(tmp_path / "server.git")
    backup.add(books, "backup-server", str(server))
    level = book(books, 1)
    script, pid_file = _hanging_receive_pack(tmp_path)
    gitrepo.run(books, "config", "remote.backup-server.receivepack", str(script))

    done = {}
    booking = threading.Thread(target=lambda: done.update(result=cli(books, "pledge", "add", "--state-party", "NOR",
                                                                       "--amount", "150000", "--year", "2026")))
    booking.start()
    for _ in range(600):  # the push has reached the remote
        if pid_file.exists() and pid_file.read_text().strip():
            break
        time.sleep(0.05)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the remote dies mid-push
    booking.join(timeout=60)
    assert not booking.is_alive()
    code, out, err = done["result"]
    assert code == 0, err  # booked
    booked = gitrepo.head(books)
    assert booked != level and "pledge" in gitrepo.log(books, "-1", "--format=%s")

    (remote,) = backup.status(books)  # the failure shows, with git's reason
    assert not remote.level and remote.pushed == level == remote_head(server)
    assert remote.error == "git push backup-server failed: fatal: Could not read from remote repository."
    code, _, err = cli(books, "check")
    assert code == 0  # the books are fine: the exit code is theirs
    assert "warning: backup remote backup-server: behind the books" in err

    gitrepo.run(books, "config", "--unset", "remote.backup-server.receivepack")  # the server is back
    code, out, err = cli(books, "backup", "push")
    assert code == 0, err
    assert remote_head(server) == booked  # level: nothing lost
    code, _, err = cli(books, "check")
    assert code == 0 and "warning" not in err


def test_a_push_that_hangs_is_killed_at_its_timeout(books, tmp_path):
    server = bare(tmp_path / "server.git")
    backup.add(books, "backup-server", str(server))
    script, pid_file = _hanging_receive_pack(tmp_path)
    gitrepo.run(books, "config", "remote.backup-server.receivepack", str(script))
    (remote,) = backup.push(books, timeout=1)
    assert not remote.level and remote.error == "git push backup-server failed: no answer within 1 s"
    hung = int(pid_file.read_text())
    for _ in range(100):  # the remote's process was killed with git (it may take a moment to be reaped)
        try:
            os.kill(hung, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{hung}/stat").read_text().split()[2] == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the hanging receive-pack survived the timeout")


def test_a_diverged_remote_is_refused_not_overwritten(books, tmp_path):
    server = bare(tmp_path / "server.git")
    backup.add(books, "backup-server", str(server))
    book(books, 1)
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(server), str(other)], check=True)
    subprocess.run(["git", "-C", str(other), "commit", "-q", "--allow-empty", "-m", "someone else"], check=True)
    subprocess.run(["git", "-C", str(other), "push", "-q", "origin", "main"], check=True)
    theirs = remote_head(server)
    book(books, 2)
    assert remote_head(server) == theirs  # never forced
    (remote,) = backup.status(books)
    assert not remote.level and "[rejected]" in remote.error


def test_a_commit_while_another_process_pushes_leaves_it_to_that_process(books, tmp_path):
    """The backup lock taken (a push in another worker): a commit does not wait
    for it; the holder pushes HEAD again when it is done."""
    import fcntl

    server = bare(tmp_path / "server.git")
    backup.add(books, "backup-server", str(server))
    with open(gitrepo.git_dir(books) / backup.LOCK_FILE, "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        commit = book(books, 1)  # returns at once
        assert backup.push(books) is None and remote_head(server) is None
        (remote,) = backup.status(books)
        assert not remote.level and remote.error is None  # behind, nothing failed
    assert [r.level for r in backup.push(books)] == [True] and remote_head(server) == commit


def test_restore_is_a_clone(books, tmp_path, cli):
    """Book, push, clone: the clone checks exactly like the original and
    reports the same figures."""
    server = bare(tmp_path / "server.git")
    code, _, err = cli(books, "backup", "add", "backup-server", str(server))
    assert code == 0, err
    for args in (("pledge", "add", "--state-party", "NOR", "--amount", "150000", "--currency", "CHF", "--year", "2026"),
                 ("budget", "set", "--year", "2026", "--line", "Staff", "--amount", "640000", "--decision", "22MSP")):
        code, _, err = cli(books, *args)
        assert code == 0, err
    restored = tmp_path / "restored"
    subprocess.run(["git", "clone", "-q", "--branch", "main", str(server), str(restored)], check=True)
    assert gitrepo.head(restored) == gitrepo.head(books)
    original, clone = cli(books, "check"), cli(restored, "check")
    assert (original[0], original[2]) == (clone[0], clone[2]) == (0, "")
    report = ("report", "contributions", "--year", "2026", "--format", "json")
    assert cli(restored, *report)[1] == cli(books, *report)[1]
