"""Helpers of the fault tests (tests/test_faults.py) and bench/faults.py.

A *trial* copies a pre-built base ledger, starts ``isu-ledger import`` in a
child process, SIGKILLs it after a given delay, and then judges what the
crash left behind: ``check`` must pass (it rolls back a crash journal), the
ledger must be exactly the state before the import or exactly the state of
a clean import (the reference), and re-running the import must complete
and give the reference.

The child is the real CLI (``runpy`` of ``app.cli.main``) with one addition:
an audit hook (``sys.addaudithook``, read-only observation, nothing of the
product is replaced) that appends a marker to a log file each time the
import reaches a phase — a bank file opened, the lock taken, the journal
renamed into place, a ledger file renamed into place, git add, git commit,
the journal removed. The last marker before the kill says which phase the
kill hit.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from ledger import conventions as C
from ledger.store import gitrepo

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLES = SHARED / "samples" / "year2025"
OPENING = ("431870.40", "2024-12-31")  # the samples' opening balance

# The phases in the order an import reaches them (markers of the child).
PHASES = ("start", "parse", "lock", "journal", "written", "git-add", "git-commit", "journal-removed", "exit")

# Working files that are not part of the books (see the ledger's .gitignore):
# the lock file and caches change on every load and are never compared.
_NOT_BOOKS = (C.LOCK_FILE,)

CHILD = textwrap.dedent(
    """
    import os, runpy, sys, time
    log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    files = set(sys.argv[2].split(os.pathsep))
    def mark(name):
        os.write(log, f"{{name}} {{time.time():.6f}}\\n".encode())
    def hook(event, args):
        if event == "open" and isinstance(args[0], (str, os.PathLike)):
            name = os.fspath(args[0])
            base = os.path.basename(name)
            if name in files:
                mark("parse")
            elif base == "{lock}":
                mark("lock")
        elif event == "os.rename" and isinstance(args[1], (str, os.PathLike)):
            base = os.path.basename(os.fspath(args[1]))
            mark("journal" if base == "{journal}" else "written")
        elif event == "os.remove" and isinstance(args[0], (str, os.PathLike)):
            if os.path.basename(os.fspath(args[0])) == "{journal}":
                mark("journal-removed")
        elif event == "subprocess.Popen" and isinstance(args[1], (list, tuple)) and args[1][:1] == ["git"]:
            if "add" in args[1] or "commit" in args[1]:
                mark("git-add" if "add" in args[1] else "git-commit")
    sys.addaudithook(hook)
    mark("start")
    sys.argv = ["isu-ledger"] + sys.argv[3:]
    try:
        runpy.run_module("app.cli.main", run_name="__main__")
    finally:
        mark("exit")
    """
).format(lock=C.LOCK_FILE, journal=C.JOURNAL_FILE)


def git_env() -> dict[str, str]:
    """The environment of a child: a fixed git identity, no system config."""
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="isu-test",
        GIT_AUTHOR_EMAIL="isu-test@isu-ledger.invalid",
        GIT_COMMITTER_NAME="isu-test",
        GIT_COMMITTER_EMAIL="isu-test@isu-ledger.invalid",
        GIT_CONFIG_NOSYSTEM="1",
        ISU_USER="test:faults",
        PYTHONPATH=str(REPO),
    )
    return env


# --- state -------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Every file of the books (bytes) and the commit HEAD points at."""

    files: dict[str, bytes]
    head: str | None

    def same_books(self, other: Snapshot) -> bool:
        return self.files == other.files


def snapshot(ledger_dir: Path) -> Snapshot:
    files = {}
    for path in sorted(ledger_dir.rglob("*")):
        rel = path.relative_to(ledger_dir)
        if not path.is_file() or rel.parts[0] == ".git" or path.name in _NOT_BOOKS:
            continue
        if path.name.endswith(".picklecache") or "__pycache__" in rel.parts:
            continue
        files[str(rel)] = path.read_bytes()
    return Snapshot(files=files, head=gitrepo.head(ledger_dir))


def diff(a: Snapshot, b: Snapshot) -> list[str]:
    """The files that differ between two snapshots (for assertion messages)."""
    names = sorted(set(a.files) | set(b.files))
    return [n for n in names if a.files.get(n) != b.files.get(n)]


def bank_refs(ledger_dir: Path) -> list[str]:
    """Every bank_ref of the loaded books, with repeats (a duplicate shows twice)."""
    from beancount.core import data

    from ledger.loader import load_books

    books = load_books(ledger_dir)
    return [
        e.meta[C.META_BANK_REF]
        for e in books.entries
        if isinstance(e, data.Transaction) and C.META_BANK_REF in (e.meta or {})
    ]


# --- the CLI -----------------------------------------------------------------


def cli(ledger_dir: Path, *args: str) -> tuple[int, str, str]:
    """``isu-ledger --ledger DIR args...`` in this process: (exit, out, err)."""
    from app.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = main(["--ledger", str(ledger_dir), *args], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def cli_process(ledger_dir: Path, *args: str, timeout: float = 120, preexec=None) -> subprocess.CompletedProcess:
    """The same in a child process (``python -m app.cli.main``)."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--ledger", str(ledger_dir), *args],
        cwd=REPO,
        env=git_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
    )


def build_base(target: Path, opening: tuple[str, str] = OPENING) -> Path:
    """A new ledger (``isu-ledger init``) in ``target``."""
    proc = cli_process(target, "init", "--opening-balance", opening[0], "--as-of", opening[1])
    if proc.returncode != 0:
        raise RuntimeError(f"init failed: {proc.stderr}")
    return target


# --- killed imports ------------------------------------------------------------


def start_import(ledger_dir: Path, files: list[Path], log: Path) -> subprocess.Popen:
    """The import in a child process of its own session (its git children too)."""
    names = os.pathsep.join(str(f) for f in files)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(log), names, "--ledger", str(ledger_dir), "import", *map(str, files)],
        cwd=REPO,
        env=git_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill(proc: subprocess.Popen, *, whole_group: bool, limit: float = 60.0) -> None:
    """SIGKILL the import: the whole process group (a crash of the machine
    or the service takes its git children with it) or only the Python
    process (its running git child finishes as an orphan; we wait for it,
    as the next writer's lock cannot know about it)."""
    try:
        if whole_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=limit)
    deadline = time.monotonic() + limit
    while _group_alive(proc.pid):
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("orphaned children of the killed import did not finish")
        time.sleep(0.01)


def phases_of(log: Path) -> list[str]:
    """The markers the child wrote, in order."""
    return [line.split()[0] for line in log.read_text().splitlines() if line.strip()] if log.exists() else []


def phase_times(log: Path, started: float) -> dict[str, float]:
    """Seconds from the spawn (wall clock ``started``) to each phase's first marker."""
    times: dict[str, float] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        name, _, stamp = line.partition(" ")
        times.setdefault(name, float(stamp) - started)
    return times


def last_phase(phases: list[str]) -> str:
    """The furthest phase reached (markers repeat: several files, renames)."""
    reached = [p for p in phases if p in PHASES and p != "exit"]
    if "exit" in phases:
        return "exit"
    return max(reached, key=PHASES.index, default="not started")


@dataclass
class Trial:
    """What one killed import left and what became of it."""

    delay: float
    after: str | None
    phase: str  # the furthest phase the child reached before the kill
    exit_code: int | None  # the child's (None: killed)
    journal_left: bool
    outcome: str = ""  # "before" | "after" after check
    problems: list[str] = field(default_factory=list)
    check_err: str = ""


def run_kill_trial(
    base: Path,
    work: Path,
    files: list[Path],
    delay: float,
    reference: Reference,
    *,
    whole_group: bool = True,
    after: str | None = None,
) -> Trial:
    """One trial: copy ``base`` to ``work``, import ``files`` in a child,
    SIGKILL it ``delay`` seconds after the spawn (or after the child reached
    phase ``after``: the write window is a few milliseconds whose place in
    time moves with the machine's load), then check, judge, re-import.

    The re-run must give exactly the reference files, which (checked once
    by the caller) hold each bank_ref once: no duplicate, nothing missing.
    """
    ledger = work / "books"
    shutil.copytree(base, ledger, symlinks=True)
    before = snapshot(ledger)
    reference_state = reference.state
    log = work / "phases.log"
    proc = start_import(ledger, files, log)
    if after is not None:
        deadline = time.monotonic() + 60
        while after not in phases_of(log) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        pass
    exit_code = proc.poll()
    kill(proc, whole_group=whole_group)
    stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    trial = Trial(
        delay=delay,
        after=after,
        phase=last_phase(phases_of(log)),
        exit_code=exit_code,
        journal_left=(ledger / C.JOURNAL_FILE).exists(),
    )
    if exit_code not in (None, 0):
        trial.problems.append(f"the import exited {exit_code} before the kill: {stderr.strip()}")

    code, _, err = cli(ledger, "check")
    trial.check_err = err.strip()
    if code != 0:
        trial.problems.append(f"check exited {code}: {err.strip()}")
    now = snapshot(ledger)
    if now.files == before.files and now.head == before.head:
        trial.outcome = "before"
    elif now.files == reference_state.files and now.head != before.head:
        trial.outcome = "after"
    else:
        trial.outcome = "in between"
        trial.problems.append(
            f"state after kill at {delay:.3f}s ({trial.phase}) is neither before nor after: "
            f"differs from before in {diff(before, now)}, from the reference in {diff(reference_state, now)}, "
            f"HEAD {'moved' if now.head != before.head else 'unchanged'}"
        )
    if gitrepo.status(ledger) != []:
        trial.problems.append(f"git status not clean after check: {gitrepo.status(ledger)}")

    code, out, err = cli(ledger, "import", *map(str, files))
    if code != 0:
        trial.problems.append(f"re-running the import exited {code}: {err.strip()}")
    final = snapshot(ledger)
    if final.files != reference_state.files:
        trial.problems.append(f"re-run import differs from the reference in {diff(reference_state, final)}")
    return trial


@dataclass(frozen=True)
class Reference:
    """A clean import: the state every complete import must reach, how long
    the uninterrupted import took and when it reached each phase."""

    state: Snapshot
    duration: float
    phases: dict[str, float]

    def write_window(self) -> tuple[float, float]:
        """From taking the lock to the journal's removal: where the writes are."""
        return self.phases.get("lock", 0.0), self.phases.get("journal-removed", self.duration)

    def write_span(self) -> float:
        """Seconds from taking the lock to the journal's removal."""
        lo, hi = self.write_window()
        return hi - lo


def reference_import(base: Path, work: Path, files: list[Path]) -> Reference:
    """A clean import of ``files`` into a copy of ``base`` in the same
    instrumented child the trials use."""
    ledger = work / "books"
    shutil.copytree(base, ledger, symlinks=True)
    log = work / "phases.log"
    started, t0 = time.time(), time.monotonic()
    proc = start_import(ledger, files, log)
    _, err = proc.communicate(timeout=120)
    took = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"reference import failed: {err.decode('utf-8', 'replace')}")
    return Reference(state=snapshot(ledger), duration=took, phases=phase_times(log, started))
