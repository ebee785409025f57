"""Property-based fuzzing of every bank file parser (hypothesis).

Whatever the bytes — random, or a valid statement of each format and
version mutated (lines dropped, duplicated, swapped; numbers turned into
``1E+400``, ``NaN``, ``Infinity``, huge or empty; truncation; BOM, other
encodings, CRLF, NUL bytes, deep nesting) — a parser either refuses with our
one-line ``BadFile`` naming the file, or returns a well-formed ParseResult
whose amounts are finite Decimals. No other exception, no hang (inputs are
bounded). And importing a fuzzed file either is refused with the books
byte-identical and HEAD unchanged, or imports consistently and checks clean.

Examples are few by default (reproducible: derandomized, no database);
``ISU_FUZZ_EXAMPLES`` raises them.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.books import REPO, bank_refs, build_base, diff, snapshot
from common.cli import cli
from importers.parse import parse_bytes
from importers.parse.camt import parse_camt
from importers.model import BadFile, ParseResult
from importers.parse.mt940 import parse_mt940
from importers.parse.ubs_csv import parse_ubs_csv
from importers.parse.xmlsafe import parse_xml
from ledger.store import gitrepo

EXAMPLES = int(os.environ.get("ISU_FUZZ_EXAMPLES", "60"))
IMPORT_EXAMPLES = max(4, EXAMPLES // 10)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
NAME = "fuzzed-statement.dat"

SHARED = REPO.parent / "shared"
OWN = Path(__file__).resolve().parents[2] / "data" / "statements"
SEED_DIRS = [OWN, SHARED / "real-statements", SHARED / "samples" / "year2025"]
SEEDS = sorted(
    p for d in SEED_DIRS if d.is_dir() for p in d.iterdir()
    if p.is_file() and p.suffix in (".xml", ".mt940", ".sta", ".csv") and p.stat().st_size < 60_000
)
assert any(p.parent == OWN for p in SEEDS), "the repository's own statements are missing"
XML_SEEDS = [p for p in SEEDS if p.suffix == ".xml"]
MT940_SEEDS = [p for p in SEEDS if p.suffix in (".mt940", ".sta")]
CSV_SEEDS = [p for p in SEEDS if p.suffix == ".csv"]

HOSTILE_NUMBERS = [
    "1E+400", "-1E+400", "1e-400", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "",
    "9" * 80, "-0", "0.0000000000000000000001", "1,5", "1'000.00", "١٢٣", "１２３", "--1", "+-1", "0x10",
]
NUMBER = re.compile(rb"\d+(?:[.,]\d+)?")


# --- the property -------------------------------------------------------------


def _amounts(result: ParseResult):
    for st_ in result.statements:
        for bal in (st_.opening, st_.closing):
            if bal is not None:
                yield bal.amount
        for entry in st_.entries:
            yield entry.amount
            yield from (x for x in (entry.charges,) if x is not None)
            for d in entry.details:
                yield from (x for x in (d.amount, d.charges, d.charges_info, d.rate) if x is not None)
                if d.instructed is not None:
                    yield d.instructed.amount


def assert_clean(call, *args) -> None:
    """Only a one-line BadFile naming the file, or a well-formed result."""
    try:
        result = call(NAME, *args)
    except BadFile as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message, message
        assert message.startswith(NAME + ": ") and exc.problem.strip(), message
        return
    assert isinstance(result, ParseResult)
    assert isinstance(result.format, str) and result.format
    for amount in _amounts(result):
        assert isinstance(amount, Decimal) and amount.is_finite(), amount
    for st_ in result.statements:
        assert st_.kind in ("statement", "notification", "report")
        for entry in st_.entries:
            assert entry.status in ("BOOK", "PDNG", "INFO"), entry.status
            assert isinstance(entry.currency, str)
            assert entry.booked is None or isinstance(entry.booked, datetime.date)
            assert not entry.is_booked or entry.booked is not None
        for bal in (st_.opening, st_.closing):
            assert bal is None or isinstance(bal.date, datetime.date)


def parse_xml_camt(name: str, data: bytes) -> ParseResult:
    return parse_camt(name, parse_xml(name, data))


# --- mutations -------------------------------------------------------------------


@st.composite
def mutated(draw, seeds: list[Path]) -> bytes:
    """A seed file with a few structured mutations applied."""
    data = draw(st.sampled_from(seeds)).read_bytes()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(
            ["number", "drop", "duplicate", "swap", "truncate", "insert", "bom", "encoding", "crlf", "nul", "nest", "unicode"]
        ))
        lines = data.splitlines(keepends=True) or [b""]
        if op == "number":
            found = list(NUMBER.finditer(data))
            if found:
                m = found[draw(st.integers(0, len(found) - 1))]
                new = draw(st.sampled_from(HOSTILE_NUMBERS)).encode()
                data = data[: m.start()] + new + data[m.end():]
        elif op in ("drop", "duplicate", "swap"):
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if op == "drop":
                del lines[i]
            elif op == "duplicate":
                lines.insert(i, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = b"".join(lines)
        elif op == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif op == "insert":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(max_size=40)) + data[at:]
        elif op == "bom":
            data = b"\xef\xbb\xbf" + data
        elif op == "encoding":
            enc = draw(st.sampled_from(["utf-16", "utf-16-le", "cp1252", "latin-1", "utf-32"]))
            data = data.decode("utf-8", "replace").encode(enc, "replace")
        elif op == "crlf":
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        elif op == "nul":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + b"\x00" + data[at:]
        elif op == "nest":
            depth = draw(st.integers(50, 3000))
            at = data.rfind(b"</")
            if at > 0:
                data = data[:at] + b"<X>" * depth + b"</X>" * depth + data[at:]
        else:
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.text(min_size=1, max_size=10)).encode("utf-8", "surrogatepass") + data[at:]
    return data[:200_000]


MT940_FIELD = st.sampled_from([":20:", ":25:", ":28C:", ":60F:", ":61:", ":86:", ":62F:", ":64:", ":65:", "-"])
MT940_VALUE = st.one_of(
    st.text(alphabet="0123456789CDRNMTF,/ .+-ABCHEURX", max_size=40),
    st.sampled_from(["C250131CHF1000,00", "D991399EUR1,", "C250101CHF" + "9" * 40 + ",00",
                     "2501310131CR1000,00NTRFNONREF//REF1", "C250131CHF,", "X", ""]),
)


@st.composite
def mt940_texts(draw) -> bytes:
    lines = [":20:FUZZ", ":25:CH4500240240FP1006276"]
    for _ in range(draw(st.integers(0, 12))):
        lines.append(draw(MT940_FIELD) + draw(MT940_VALUE))
    return "\r\n".join(lines).encode(draw(st.sampled_from(["latin-1", "utf-8"])), "replace")


@st.composite
def csv_texts(draw) -> bytes:
    seed = draw(st.sampled_from(CSV_SEEDS)).read_bytes()
    text = seed.decode("utf-8", "replace")
    lines = text.splitlines()
    header = [line for line in lines if line.count(";") > 3][:1] or lines[:1]
    cell = st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.text(max_size=15), st.sampled_from(["31.01.2025", "2025-01-31", "99.99.9999", "CHF"]))
    width = max(1, header[0].count(";") + 1) if header else 8
    rows = [";".join(draw(st.lists(cell, min_size=0, max_size=width + 2))) for _ in range(draw(st.integers(0, 8)))]
    keep = lines[: draw(st.integers(0, len(lines)))]
    return "\n".join(keep + rows).replace("\x00", "").encode("utf-8", "surrogatepass")


# --- the properties ----------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes(data):
    assert_clean(parse_bytes, data)


@FUZZ
@given(mutated(XML_SEEDS))
def test_mutated_camt_every_version(data):
    assert_clean(parse_bytes, data)
    assert_clean(parse_xml_camt, data)


@pytest.mark.skipif(not MT940_SEEDS, reason="no MT940 seed files")
@FUZZ
@given(st.one_of(mutated(MT940_SEEDS), mt940_texts()))
def test_mutated_and_generated_mt940(data):
    assert_clean(parse_bytes, data)
    assert_clean(parse_mt940, data)


@FUZZ
@given(st.one_of(mutated(CSV_SEEDS), csv_texts()))
def test_mutated_and_generated_ubs_csv(data):
    assert_clean(parse_bytes, data)
    assert_clean(parse_ubs_csv, data)


def test_bare_carriage_return_in_a_csv_field_is_a_bad_file():
    """Regression (found by the fuzzer): csv.Error escaped parse_ubs_csv and parse_bytes."""
    seed = CSV_SEEDS[0].read_bytes()
    lines = seed.split(b"\n")
    row = next(i for i, line in enumerate(lines) if line.count(b";") > 3 and i > 0)
    lines[row + 1] = lines[row + 1].replace(b";", b";x\ry", 1)
    data = b"\n".join(lines)
    for call in (parse_bytes, parse_ubs_csv):
        with pytest.raises(BadFile, match="not readable as CSV"):
            call(NAME, data)


def test_seed_versions_cover_every_camt_message():
    """The mutations start from each camt message the product reads."""
    formats = set()
    for p in XML_SEEDS:
        try:
            formats.add(parse_bytes(p.name, p.read_bytes()).format[:8])
        except BadFile:  # a non-conformant sample is a seed too
            continue
    assert {"camt.052", "camt.053", "camt.054"} <= formats


# --- nothing is written --------------------------------------------------------------

SAMPLES = SHARED / "samples" / "year2025"


@pytest.fixture(scope="module")
def fuzz_base(tmp_path_factory):
    if not SAMPLES.is_dir():
        pytest.skip("../shared/samples not available")
    return build_base(tmp_path_factory.mktemp("fuzz") / "books")


@settings(max_examples=IMPORT_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=mutated([SAMPLES / "ubs-isu-2025-01.camt053.xml", SAMPLES / "ubs-isu-2025-10.mt940"]
                    if SAMPLES.is_dir() else XML_SEEDS))
def test_import_of_fuzzed_file_is_refused_cleanly_or_consistent(fuzz_base, tmp_path_factory, data):
    work = tmp_path_factory.mktemp("import")
    ledger = work / "books"
    shutil.copytree(fuzz_base, ledger)
    statement = work / "ubs-isu-2025-01.camt053.xml"
    statement.write_bytes(data)
    before = snapshot(ledger)
    code, out, err = cli(ledger, "import", str(statement))
    if code == 0:  # a mutated but valid file may import: then it is consistent
        assert cli(ledger, "check")[0] == 0
        refs = bank_refs(ledger)
        assert len(refs) == len(set(refs))
    else:
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        after = snapshot(ledger)
        assert after.files == before.files, diff(before, after)
        assert after.head == before.head
    assert gitrepo.status(ledger) == []
    shutil.rmtree(work)
