"""A thin wrapper over the ``git`` command for the ledger directory.

The ledger directory is a git repository: every write is one commit naming
the user and the action, which is the audit trail auditors replay. We call
the real ``git`` binary (no library) so that what we do is exactly what an
auditor can redo by hand. Every call runs with a fixed, neutral
configuration (no pager, no signing, no hooks of the user's global config
leaking in) so the same code works on a server without any git setup.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
from pathlib import Path

_ENV_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")
_BAD_IDENT = re.compile(r"[<>\n\r\x00]")
_EMAIL_BAD = re.compile(r"[^A-Za-z0-9._+-]")


class GitError(Exception):
    """A git command failed. ``str()`` is one line: the command and git's message."""


def _env(user: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _ENV_DROP}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    if user is not None:
        name, email = identity(user)
        env.update(
            GIT_AUTHOR_NAME=name,
            GIT_AUTHOR_EMAIL=email,
            GIT_COMMITTER_NAME=name,
            GIT_COMMITTER_EMAIL=email,
        )
    return env


def identity(user: str) -> tuple[str, str]:
    """Git name and e-mail for a ledger user such as ``finance:alice``.

    The name is the user as given (minus characters git forbids); the e-mail
    is synthetic, because ledger users are web/CLI logins, not mail boxes.
    """
    name = _BAD_IDENT.sub(" ", user).strip() or "isu-ledger"
    local = _EMAIL_BAD.sub(".", name).strip(".") or "isu-ledger"
    return name, f"{local}@isu-ledger.invalid"


def run(repo: Path | str, *args: str, user: str | None = None, stdin: str | None = None) -> str:
    """Run ``git -C repo args...`` and return its standard output.

    Raises GitError with git's own message on a non-zero exit.
    """
    cmd = [
        "git",
        "-c", "core.pager=cat",
        "-c", "commit.gpgsign=false",
        "-c", "core.hooksPath=/dev/null",
        "-c", "core.quotePath=false",
        "-C", str(repo),
        *args,
    ]
    proc = subprocess.run(
        cmd,
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(user),
        check=False,
    )
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise GitError(f"git {args[0]} failed: {msg[-1] if msg else 'exit ' + str(proc.returncode)}")
    return proc.stdout


def init(repo: Path | str) -> None:
    """Create a repository whose first branch is ``main``."""
    run(repo, "init", "-q", "-b", "main")


def head(repo: Path | str) -> str | None:
    """The commit HEAD points at, or None in a repository without commits."""
    try:
        return run(repo, "rev-parse", "--verify", "-q", "HEAD").strip() or None
    except GitError:
        return None


def is_repo(repo: Path | str) -> bool:
    try:
        return run(repo, "rev-parse", "--show-toplevel").strip() == str(Path(repo).resolve())
    except GitError:
        return False


def status(repo: Path | str) -> list[tuple[str, str]]:
    """``git status --porcelain``: a list of (two-letter code, path).

    Untracked files are listed with code ``??``; ignored files are not.
    """
    # --no-optional-locks: status must not take .git/index.lock to refresh the
    # index; a writer killed during it would leave the lock and block every write.
    out = run(repo, "--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all")
    items: list[tuple[str, str]] = []
    parts = out.split("\0")
    i = 0
    while i < len(parts):
        rec = parts[i]
        i += 1
        if not rec:
            continue
        code, path = rec[:2], rec[3:]
        if code[0] in "RC":  # renames carry the old path as the next record
            i += 1
        items.append((code, path))
    return items


def add(repo: Path | str, paths: list[str]) -> None:
    if paths:
        run(repo, "add", "-A", "--", *paths)


def commit(repo: Path | str, message: str, user: str) -> str:
    """Commit what is staged, authored by ``user``; return the new commit's sha."""
    run(repo, "commit", "-q", "--no-verify", "-F", "-", user=user, stdin=message)
    sha = head(repo)
    if sha is None:  # pragma: no cover - git said it committed
        raise GitError("git commit failed: no HEAD after commit")
    return sha


def unstage(repo: Path | str, paths: list[str]) -> None:
    """Reset the index for ``paths`` to HEAD (undo a ``git add`` of a failed write)."""
    if paths:
        run(repo, "reset", "-q", "HEAD", "--", *paths)


def head_blobs(repo: Path | str, paths: list[str]) -> dict[str, str]:
    """The blob id of each of ``paths`` in HEAD (paths not in HEAD are absent):
    one ``git ls-tree`` for all of them, nothing hashed."""
    if not paths:
        return {}
    try:
        out = run(repo, "ls-tree", "-z", "HEAD", "--", *paths)
    except GitError:
        return {}
    blobs = {}
    for rec in out.split("\0"):
        if not rec:
            continue
        meta, path = rec.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob":
            blobs[path] = sha
    return blobs


def blob_id(content: bytes) -> str:
    """Git's id of a blob holding ``content`` (sha1 repositories), without running git."""
    digest = hashlib.sha1(b"blob %d\0" % len(content))
    digest.update(content)
    return digest.hexdigest()


def cat_blob(repo: Path | str, blob: str) -> bytes:
    """The bytes of blob ``blob`` (``git cat-file blob``), binary-exact."""
    cmd = ["git", "-C", str(repo), "cat-file", "blob", blob]
    proc = subprocess.run(cmd, capture_output=True, env=_env(), check=False)
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git cat-file failed: {msg[-1] if msg else 'exit ' + str(proc.returncode)}")
    return proc.stdout


def log(repo: Path | str, *args: str) -> str:
    return run(repo, "log", *args)


def git_dir(repo: Path | str) -> Path:
    """The repository's own directory (``.git``, wherever it lives)."""
    return Path(run(repo, "rev-parse", "--absolute-git-dir").strip())


_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")


def push(repo: Path | str, remote: str, refspec: str, *, timeout: float) -> None:
    """``git push remote refspec``, given at most ``timeout`` seconds.

    Never forced: a backup that moved on its own is refused by git, not
    overwritten. git and whatever it started (ssh, the remote's
    receive-pack) run in their own process group, killed whole at the
    timeout. Raises GitError with one line (credentials in a URL masked).
    """
    cmd = [
        "git", "-c", "core.hooksPath=/dev/null", "-C", str(repo),
        "push", "--quiet", "--no-verify", remote, refspec,
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env(), start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise GitError(f"git push {remote} failed: no answer within {timeout:g} s") from None
    if proc.returncode != 0:
        reason = _CREDENTIALS.sub(r"\1***@", _push_reason(err.decode("utf-8", "replace")) or f"exit {proc.returncode}")
        raise GitError(f"git push {remote} failed: {' '.join(reason.split())}")


def _push_reason(stderr: str) -> str | None:
    """The line of a failed push's output that says why: a rejected ref, else
    git's first fatal or error line (the advice that follows says less)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for marker in ("[rejected]", "[remote rejected]", "fatal:", "error:"):
        for line in lines:
            if marker in line if marker.startswith("[") else line.startswith(marker):
                return line
    return lines[-1] if lines else None
