"""The full fault profile: many imports SIGKILLed at random points.

    python bench/faults.py [--trials 300] [--seed N] [--workers 2]

Same trials as tests/test_faults.py (helpers in tests/faults_support.py),
more of them; prints one table: for each phase the kill hit, how many
trials, how many ended as "before" (rolled back) and "after" (complete),
how many left a crash journal, and any problem (there must be none).
Needs ../shared/samples; exits 1 when a trial found a problem.
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import faults_support as F  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20250611)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not F.SAMPLES.is_dir():
        print(f"{F.SAMPLES}: samples not available", file=sys.stderr)
        return 2
    files = [F.SAMPLES / "ubs-isu-2025-01.camt053.xml", F.SAMPLES / "ubs-isu-2025-02.camt053.xml"]
    work = Path(tempfile.mkdtemp(prefix="isu-faults-"))
    try:
        base = F.build_base(work / "base")
        (work / "reference").mkdir()
        reference = F.reference_import(base, work / "reference", files)
        rng = random.Random(args.seed)
        span = reference.write_span()
        plan = [
            (rng.uniform(0, 1.2 * reference.duration), None) if i % 2 == 0 else (rng.uniform(0, 1.5 * span), "lock")
            for i in range(args.trials)
        ]

        def trial(i: int) -> F.Trial:
            where = work / f"t{i:05d}"
            where.mkdir()
            delay, after = plan[i]
            result = F.run_kill_trial(base, where, files, delay, reference, whole_group=i % 3 != 2, after=after)
            shutil.rmtree(where)
            return result

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            trials = list(pool.map(trial, range(args.trials)))
        took = time.monotonic() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for t in trials:
        row = rows[t.phase]
        row["trials"] += 1
        row[t.outcome] += 1
        row["journal"] += t.journal_left
        row["problems"] += bool(t.problems)
    order = list(F.PHASES) + sorted(set(rows) - set(F.PHASES))
    print(f"{args.trials} kill trials, seed {args.seed}, {took:.1f} s (one import {reference.duration:.2f} s)")
    print(f"{'phase hit':<18}{'trials':>8}{'before':>8}{'after':>8}{'journal':>9}{'problems':>10}")
    for phase in order:
        if phase in rows:
            r = rows[phase]
            print(f"{phase:<18}{r['trials']:>8}{r['before']:>8}{r['after']:>8}{r['journal']:>9}{r['problems']:>10}")
    problems = [f"trial {i}: {p}" for i, t in enumerate(trials) for p in t.problems]
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
