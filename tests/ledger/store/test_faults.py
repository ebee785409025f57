"""Faults: an import killed at random points, two imports at once, a full disk.

Each proves DESIGN.md section 7 "a crash mid-write leaves the last good
state; two imports at once never corrupt the ledger" on the real CLI in
child processes. Counts are modest by default so the suite stays short;
``ISU_FAULT_TRIALS`` and ``ISU_CONCURRENT_REPEATS`` raise them (``make bench``
runs the long profile).

A *trial* copies a pre-built base ledger, starts ``isu-ledger import`` in a
child process, SIGKILLs it after a given delay, and then judges what the
crash left behind: ``check`` must pass (it rolls back a crash journal), the
ledger must be exactly the state before the import or exactly the state of
a clean import (the reference), and re-running the import must complete
and give the reference.

The child is the real CLI (``runpy`` of ``app.cli``) with one addition:
an audit hook (``sys.addaudithook``, read-only observation, nothing of the
product is replaced) that appends a marker to a log file each time the
import reaches a phase — a bank file opened, the lock taken, the journal
renamed into place, a ledger file renamed into place, git add, git commit,
the journal removed. The last marker before the kill says which phase the
kill hit.
"""

from __future__ import annotations

import collections
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from common.books import REPO, Snapshot, bank_refs, build_base, cli_process, diff, git_env, snapshot
from common.cli import cli

from ledger import conventions
from ledger.store import gitrepo

SAMPLES = REPO.parent / "shared" / "samples" / "year2025"
OPENING = ("431870.40", "2024-12-31")  # the samples' opening balance

# The phases in the order an import reaches them (markers of the child).
PHASES = ("start", "parse", "lock", "journal", "written", "git-add", "git-commit", "journal-removed", "exit")

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
        runpy.run_module("app.cli", run_name="__main__")
    finally:
        mark("exit")
    """
).format(lock=conventions.LOCK_FILE, journal=conventions.JOURNAL_FILE)


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
        journal_left=(ledger / conventions.JOURNAL_FILE).exists(),
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

pytestmark = [
    pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples not available"),
]

JAN = SAMPLES / "ubs-isu-2025-01.camt053.xml"
FEB = SAMPLES / "ubs-isu-2025-02.camt053.xml"
JAN_HALF = SAMPLES / "overlap" / "ubs-isu-2025-01-first-half.camt053.xml"
KILL_FILES = [JAN, FEB]
TRIALS = int(os.environ.get("ISU_FAULT_TRIALS", "50"))
REPEATS = int(os.environ.get("ISU_CONCURRENT_REPEATS", "4"))
SEED = int(os.environ.get("ISU_FAULT_SEED", "20250611"))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A fresh ledger with the samples' opening balance, built once."""
    return build_base(tmp_path_factory.mktemp("base") / "books")


def kill_plan(rng: random.Random, n: int, reference) -> list[tuple[float, str | None]]:
    """(delay, counted from) per trial: half uniform over the whole import
    from the spawn (and 20 % past its end), half uniform over the write
    window counted from the moment the child takes the lock (1.5 times the
    window, so the end of the write and the exit are hit too)."""
    span = reference.write_span()
    return [
        (rng.uniform(0, 1.2 * reference.duration), None) if i % 2 == 0 else (rng.uniform(0, 1.5 * span), "lock")
        for i in range(n)
    ]


def test_import_killed_at_random_points_is_all_or_nothing(base, tmp_path, capsys):
    reference = reference_import(base, tmp_path / "reference", KILL_FILES)
    refs = bank_refs(tmp_path / "reference" / "books")
    assert len(refs) == len(set(refs)) == 6
    plan = kill_plan(random.Random(SEED), TRIALS, reference)

    def trial(i: int):
        work = tmp_path / f"t{i:04d}"
        work.mkdir()
        # Two in three kill the whole process group (a crash takes git along);
        # every third kills only Python and lets a running git child finish.
        delay, after = plan[i]
        result = run_kill_trial(base, work, KILL_FILES, delay, reference, whole_group=i % 3 != 2, after=after)
        shutil.rmtree(work)
        return result

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        trials = list(pool.map(trial, range(TRIALS)))
    took = time.monotonic() - started

    problems = [f"trial {i} (kill {t.delay:.3f}s after {t.after or 'spawn'}, phase {t.phase}): {p}" for i, t in enumerate(trials) for p in t.problems]
    assert not problems, "\n".join(problems)
    outcomes = collections.Counter(t.outcome for t in trials)
    phases = collections.Counter(t.phase for t in trials)
    with capsys.disabled():
        print(f"\n{TRIALS} kill trials in {took:.1f}s (import {reference.duration:.2f}s): "
              f"outcomes {dict(outcomes)}, phases {dict(sorted(phases.items(), key=lambda kv: PHASES.index(kv[0]) if kv[0] in PHASES else -1))}, "
              f"journals left {sum(t.journal_left for t in trials)}")
    assert set(outcomes) <= {"before", "after"}
    if TRIALS >= 20:
        assert outcomes["before"] and outcomes["after"], outcomes
        assert len(phases) >= 4, phases  # several different phases were hit
        assert any(t.journal_left for t in trials), "no kill landed between journal and its removal"


def test_temp_files_left_by_a_crash_are_removed_by_check_and_by_the_next_writer(base, tmp_path):
    """Regression: a kill while the journal was being written left its
    half-written ``.isu-tmp-*`` (and no journal) in the ledger for ever."""
    ledger = tmp_path / "books"
    shutil.copytree(base, ledger)
    before = snapshot(ledger)
    for rel in (".isu-tmp-abc123", "txns/.isu-tmp-def456"):
        (ledger / rel).write_bytes(b'{"version": 1, "head": "trunc')
    assert cli(ledger, "check")[0] == 0
    assert snapshot(ledger) == before
    (ledger / ".isu-tmp-again").write_bytes(b"partial")
    code, _, err = cli(ledger, "import", str(JAN))
    assert code == 0, err
    assert not list(ledger.rglob(".isu-tmp-*"))


def test_git_lock_left_by_a_killed_git_add_is_removed_by_recovery(base, tmp_path):
    """Regression (found by the kill trials): a crash during ``git add`` left
    ``.git/index.lock``; check passed but every later write failed."""
    ledger = tmp_path / "books"
    shutil.copytree(base, ledger)
    before = snapshot(ledger)
    proc = start_import(ledger, [JAN], tmp_path / "phases.log")
    deadline = time.monotonic() + 60
    while "journal" not in phases_of(tmp_path / "phases.log") and time.monotonic() < deadline:
        time.sleep(0.002)
    kill(proc, whole_group=True)
    assert (ledger / conventions.JOURNAL_FILE).exists()
    (ledger / ".git" / "index.lock").write_bytes(b"")  # as git leaves it when killed
    assert cli(ledger, "check")[0] == 0
    assert snapshot(ledger) == before and not (ledger / ".git" / "index.lock").exists()
    code, _, err = cli(ledger, "import", str(JAN))
    assert code == 0, err


# --- two imports at once -----------------------------------------------------------


@pytest.mark.parametrize("pair", [(JAN, JAN), (JAN, JAN_HALF)], ids=["same-file-twice", "january-and-first-half"])
def test_concurrent_overlapping_imports_never_duplicate(base, tmp_path, pair):
    if not pair[1].is_file():
        pytest.skip(f"{pair[1]} not available")
    expected = None
    for n in range(REPEATS):
        ledger = tmp_path / f"books{n}"
        shutil.copytree(base, ledger)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "app.cli", "--ledger", str(ledger), "import", str(f)],
                cwd=REPO, env=git_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for f in pair
        ]
        results = [(p, *p.communicate(timeout=120)) for p in procs]
        for p, _out, err in results:
            assert p.returncode in (0, 2), (p.returncode, err)
            assert "Traceback" not in err
            if p.returncode == 2:  # a refusal, one line, e.g. the lock was busy
                assert len(err.strip().splitlines()) == 1 and "busy" in err, err
        assert any(p.returncode == 0 for p, _, _ in results)
        refs = bank_refs(ledger)
        assert len(refs) == len(set(refs)), f"duplicate bank_ref: {sorted(refs)}"
        assert cli(ledger, "check")[0] == 0
        assert gitrepo.status(ledger) == []
        # Either order gives the same bookings: the whole of January, once.
        expected = expected or sorted(refs)
        assert sorted(refs) == expected
        shutil.rmtree(ledger)


# --- the disk filling up during a write ----------------------------------------------


def _file_size_limit(limit: int):
    """preexec_fn: writes past ``limit`` bytes fail with EFBIG instead of SIGXFSZ."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.fixture
def january(base, tmp_path) -> Path:
    """A copy of the base ledger with January imported: February then grows
    an existing year file."""
    ledger = tmp_path / "books"
    shutil.copytree(base, ledger)
    assert cli(ledger, "import", str(JAN))[0] == 0
    return ledger


def _assert_refused_cleanly(ledger: Path, before, proc: subprocess.CompletedProcess, words: tuple[str, ...]) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert any(w in lines[0] for w in words), lines[0]
    assert not (ledger / conventions.JOURNAL_FILE).exists()
    after = snapshot(ledger)
    assert after.head == before.head
    assert after.files == before.files, diff(before, after)
    assert cli(ledger, "check")[0] == 0


def test_file_size_limit_during_the_write_keeps_the_last_good_state(january, tmp_path):
    """RLIMIT_FSIZE makes the kernel refuse (EFBIG) the growing year file:
    the archive and the journal are small enough, the year file is not."""
    reference = tmp_path / "reference"
    shutil.copytree(january, reference)
    assert cli(reference, "import", str(FEB))[0] == 0
    year_file = len((reference / "txns" / "2025.beancount").read_bytes())
    journal_estimate = 4 * len((january / "txns" / "2025.beancount").read_bytes()) // 3 + 512
    limit = year_file - 64
    assert max(journal_estimate, FEB.stat().st_size) < limit, "the samples changed: recompute the limit"

    before = snapshot(january)
    proc = cli_process(january, "import", str(FEB), preexec=_file_size_limit(limit))
    _assert_refused_cleanly(january, before, proc, ("txns/2025.beancount: cannot be written (File too large)",))
    assert gitrepo.status(january) == []
    # Without the limit the same import goes through.
    code, _, err = cli(january, "import", str(FEB))
    assert code == 0, err
    assert snapshot(january).files == snapshot(reference).files


def _can_mount_tmpfs(where: Path) -> bool:
    where.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True)
    if proc.returncode != 0:
        return False
    subprocess.run(["umount", str(where)], check=True)
    return True


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A 4 MiB tmpfs (skipped where mounting is not allowed)."""
    where = tmp_path / "fs"
    if shutil.which("mount") is None or not _can_mount_tmpfs(where):
        pytest.skip("cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_no_space_left_at_every_step_keeps_the_last_good_state(january, tiny_filesystem, tmp_path):
    """A real ENOSPC: the ledger on a tmpfs filled up to 0, 4, 8, ... KiB of
    free space, until the import fits. Each level runs out at another step
    (git status, the archive, the year file, git add, git commit, the ref);
    every one is a one-line refusal leaving the books byte-identical."""
    reference = tmp_path / "reference"
    shutil.copytree(january, reference)
    assert cli(reference, "import", str(FEB))[0] == 0
    expected = snapshot(reference).files
    refusals = []
    for kib in range(0, 256, 4):
        ledger = tiny_filesystem / "books"
        shutil.rmtree(ledger, ignore_errors=True)
        shutil.copytree(january, ledger)
        stat = os.statvfs(tiny_filesystem)
        free = stat.f_bavail * stat.f_frsize
        filler = tiny_filesystem / "filler"
        filler.write_bytes(b"\0" * max(0, free - kib * 1024 - 512))
        before = snapshot(ledger)
        proc = cli_process(ledger, "import", str(FEB))
        if proc.returncode == 0:
            filler.unlink()
            assert snapshot(ledger).files == expected
            assert cli(ledger, "check")[0] == 0
            break
        _assert_refused_cleanly(ledger, before, proc, ("No space left", "Out of diskspace", "couldn't write"))
        refusals.append(proc.stderr.strip())
        filler.unlink()  # git status itself needs space for its index.lock
        assert gitrepo.status(ledger) == []
        if "cannot be written" in proc.stderr:  # with space, the same import goes through
            code, _, err = cli(ledger, "import", str(FEB))
            assert code == 0, err
            assert snapshot(ledger).files == expected
    else:
        pytest.fail("the import never fitted")
    assert any("txns/2025.beancount: cannot be written (No space left on device)" in r for r in refusals), refusals
    assert any("git" in r for r in refusals), refusals
