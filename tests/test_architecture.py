"""Rules of the code base that no single module's tests would see.

- Every function and method in the packages has a cyclomatic complexity
  under 20 (radon's measure): a function that needs more is two functions.
- Money is rounded and written in one place, ``ledger.money``.

Each rule has an allow-list of the places that still break it while another
piece of work splits or moves them. Every entry says what it waits for; an
entry that no longer breaks the rule fails the test, so the list only
shrinks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_visit

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("ledger", "importers", "reports", "app")
LIMIT = 20  # a function must score below this

# (file, function as radon names it: "Class.method" or "function") -> why it may still score LIMIT or more.
COMPLEX_PENDING: dict[tuple[str, str], str] = {}

# Rounding or two-decimal formatting outside ledger.money: a quantize, a
# rounding mode, or an f-string amount format such as ``{x:,.2f}``.
MONEY_FORMAT = re.compile(r"\.quantize\(|\bROUND_[A-Z_]+|\{[^{}]*:[^{}]*\.2f\}")

# Lines that round a figure that is not an amount, for a reason said beside them.
MONEY_EXCEPTIONS = {
    ("app/demo/scenario.py", 'r_fx = (rate(currency, year) * uniform(rng, "0.996", "1.004")).quantize(Decimal("0.000001"))'),
}

# file -> why it may still round or format money itself.
MONEY_PENDING: dict[str, str] = {
    "ledger/registry.py": "a name-match score rounded to 0.01: a score, not an amount",
    "importers/identify.py": "confidence scores rounded to 0.01: a score, not an amount",
}


def _sources() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((REPO / package).rglob("*.py"))


def _functions(blocks, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(name, complexity) of every function, method and nested function."""
    for block in blocks:
        if hasattr(block, "methods"):  # a class
            yield from _functions(block.methods, "")
            yield from _functions(getattr(block, "inner_classes", ()), "")
            continue
        yield prefix + block.fullname, block.complexity
        yield from _functions(block.closures, prefix + block.fullname + ".")


@functools.cache
def _complexities() -> dict[tuple[str, str], int]:
    found = {}
    for path in _sources():
        rel = path.relative_to(REPO).as_posix()
        for name, complexity in _functions(cc_visit(path.read_text(encoding="utf-8"))):
            found[(rel, name)] = complexity
    return found


def test_every_function_is_under_the_complexity_limit():
    too_complex = {key: c for key, c in _complexities().items() if c >= LIMIT and key not in COMPLEX_PENDING}
    listed = ", ".join(f"{file}:{name} ({c})" for (file, name), c in sorted(too_complex.items()))
    assert not too_complex, f"split these functions (complexity >= {LIMIT}): {listed}"


def test_the_complexity_allow_list_only_names_functions_still_over_the_limit():
    found = _complexities()
    done = sorted(key for key in COMPLEX_PENDING if found.get(key, 0) < LIMIT)
    listed = ", ".join(f"{file}:{name}" for file, name in done)
    assert not done, f"remove from COMPLEX_PENDING (now under {LIMIT} or gone): {listed}"


@functools.cache
def _money_formats() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in _sources():
        rel = path.relative_to(REPO).as_posix()
        if rel == "ledger/money.py" or "/migrations/" in rel:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if MONEY_FORMAT.search(line) and (rel, line.strip()) not in MONEY_EXCEPTIONS:
                found.setdefault(rel, []).append(f"{rel}:{number}: {line.strip()}")
    return found


def test_money_is_rounded_and_formatted_only_in_ledger_money():
    found = {rel: lines for rel, lines in _money_formats().items() if rel not in MONEY_PENDING}
    assert not found, "use ledger.money (cents, rounded, text, grouped) instead of:\n" + "\n".join(
        line for lines in found.values() for line in lines)


def test_the_money_allow_list_only_names_files_that_still_need_it():
    found = _money_formats()
    done = sorted(rel for rel in MONEY_PENDING if rel not in found)
    assert not done, f"remove from MONEY_PENDING (no rounding or amount format left): {', '.join(done)}"
    gone = sorted(rel for rel, line in MONEY_EXCEPTIONS if line not in (REPO / rel).read_text(encoding="utf-8"))
    assert not gone, f"remove from MONEY_EXCEPTIONS (the line is gone): {', '.join(gone)}"


def test_the_checks_see_what_they_look_for():
    """The scans are not vacuous: they find the packages' functions and a
    known money format."""
    found = _complexities()
    assert ("ledger/money.py", "cents") in found
    assert ("reports/annual.py", "_YearFigures.add") in found
    assert MONEY_FORMAT.search('f"{amount:>14,.2f}"') and MONEY_FORMAT.search("x.quantize(CENT)")
    assert not MONEY_FORMAT.search('f"{seconds:.1f} s"')
