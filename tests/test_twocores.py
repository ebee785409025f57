"""Reading a big camt file on two cores (ledger.twocores, importers.parse.camt).

The command line reads a big camt file in two processes: the bytes are cut
at entries into segments, a forked child reads the file less its entries
(the skeleton) and takes segments from the front, sending each as it is
read; this process takes segments from the back. Whatever the file - good,
hostile, fuzzed, several statements, warnings on both sides, markup placed
to fool the cut - the result is exactly the one-process result, or the
same one-line refusal; a side that fails, is held up or sends nonsense only
means the other takes more segments or the file is read again here.
"""

from __future__ import annotations

import os
import signal
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import importers.parse.camt as camt
from importers.parse import parse_bytes
from importers.model import BadFile, ParseResult, entry_from_plain, plain_entry
from ledger import twocores
from test_fuzz_parsers import OWN, SHARED, XML_SEEDS, mutated

CAMT_FILES = sorted(
    p for d in (OWN, SHARED / "real-statements", SHARED / "samples" / "year2025",
                SHARED / "samples" / "year2025" / "bad", SHARED / "samples" / "year2025" / "tricky")
    if d.is_dir() for p in d.iterdir() if p.suffix == ".xml"
)
NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"


def parsed(path, data: bytes):
    """The one-process result of a file that must parse."""
    result = one_process(path, data)
    assert isinstance(result, ParseResult), result
    return result


def outcome(path, data: bytes):
    try:
        return parse_bytes(path, data)
    except BadFile as exc:
        return ("refused", str(exc))


@pytest.fixture
def forks(monkeypatch):
    """Two cores allowed for any file size, segments of any size; the forks
    made are counted, and so are the files read again in one process."""
    made = []
    real_fork = os.fork

    def fork():
        made.append(1)
        return real_fork()

    monkeypatch.setattr(twocores, "ENABLED", True)
    monkeypatch.setattr(camt, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(camt, "_SEGMENT_MIN", 200)
    monkeypatch.setattr(twocores.threading, "active_count", lambda: 1)
    monkeypatch.setattr(twocores.os, "fork", fork)
    return made


@pytest.fixture
def read_again(monkeypatch):
    """The files the two-core reading gave up on, to be read again in one
    process (the result or refusal then comes from that reading)."""
    again = []
    real = camt._on_two_cores

    def on_two_cores(path, data):
        result = real(path, data)
        if result is None:
            again.append(path)
        return result

    monkeypatch.setattr(camt, "_on_two_cores", on_two_cores)
    return again


def one_process(path, data: bytes):
    enabled, twocores.ENABLED = twocores.ENABLED, False
    try:
        return outcome(path, data)
    finally:
        twocores.ENABLED = enabled


def cuttable(data: bytes) -> bool:
    """No comment, CDATA, DOCTYPE or processing instruction past the prolog."""
    body = camt.prolog_end(data)
    return data.find(b"<!", body) < 0 and data.find(b"<?", body) < 0


@pytest.mark.parametrize("path", CAMT_FILES, ids=lambda p: p.name)
def test_every_camt_file_reads_the_same_on_two_cores(path, forks, read_again):
    data = path.read_bytes()
    expected = one_process(path, data)
    assert outcome(path, data) == expected
    assert len(forks) in (0, 1)  # 0: not a file to cut (empty, DOCTYPE, no entries)
    if isinstance(expected, ParseResult) and cuttable(data) and any(s.entries for s in expected.statements):
        assert forks and not read_again  # really read on two cores


def test_most_sample_files_are_ones_to_read_on_two_cores():
    """The test above is not vacuous: most sample files parse, have entries
    and no comment past the prolog, so it requires them read on two cores."""
    qualifying = [
        path for path in CAMT_FILES
        if isinstance(expected := one_process(path, path.read_bytes()), ParseResult)
        and cuttable(path.read_bytes()) and any(s.entries for s in expected.statements)
    ]
    assert len(qualifying) >= 25


def entry_xml(n: int, count: int, warn: bool) -> str:
    ref = "210000000003139471430009018" if warn else "210000000003139471430009017"
    return (f'<Ntry><Amt Ccy="{"EUR" if n >= 2 * count // 3 else "CHF"}">{n + 1}.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            f"<Sts>BOOK</Sts><BookgDt><Dt>2025-01-{n % 28 + 1:02d}</Dt></BookgDt><AcctSvcrRef>R{n}</AcctSvcrRef>"
            f"<NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp>"
            f"<Ref>{ref}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>")


def statements_file(*, warn_at: set[int], count: int = 9) -> bytes:
    """Three statements: the second with a closing balance that does not add
    up, the last with no account currency and no balances (its currency comes
    from its first entry, on the other side); QRR references failing their
    check at ``warn_at``."""
    def bal(code: str, amount: str) -> str:
        return (f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{amount}</Amt>'
                f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-01-31</Dt></Dt></Bal>")

    def entries(numbers) -> str:
        return "\n".join(entry_xml(n, count, n in warn_at) for n in numbers)

    third = count // 3
    account = "<Acct><Id><IBAN>CH4500240240FP1006276</IBAN></Id><Ccy>CHF</Ccy></Acct>"
    stmts = [
        "<Stmt><Id>S1</Id>" + account + bal("OPBD", "0") + entries(range(third)) + "</Stmt>",
        "<Stmt><Id>S2</Id>" + account + bal("OPBD", "0") + bal("CLBD", "1.00")
        + entries(range(third, 2 * third)) + "<AddtlStmtInf>end of S2</AddtlStmtInf></Stmt>",
        "<Stmt><Id>S3</Id><Acct><Id><IBAN>CH4500240240FP1006276</IBAN></Id></Acct>"
        + entries(range(2 * third, count)) + "</Stmt>",
    ]
    return (f'<?xml version="1.0"?>\n<Document xmlns="{NS}"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>\n'
            + "\n".join(stmts) + "\n</BkToCstmrStmt></Document>\n").encode()


def test_statements_warnings_and_currencies_come_out_in_one_process_order(forks, read_again):
    data = statements_file(warn_at={1, 4, 7})
    expected = one_process("three.xml", data)
    assert isinstance(expected, camt.ParseResult)
    assert [s.currency for s in expected.statements] == ["CHF", "CHF", "EUR"]
    assert sum("fails" in w for w in expected.warnings) == 3 and len(expected.warnings) > 3
    assert len(camt._split(data).segments) >= 5  # segments cross the statements' ends
    got = outcome("three.xml", data)
    assert got == expected and got.warnings == expected.warnings
    assert len(forks) == 1 and not read_again


def test_a_bad_entry_on_either_side_is_refused_as_one_process_refuses_it(forks):
    for bad in (1, 7):  # the child's side (front), this process's side (back)
        data = statements_file(warn_at=set()).replace(f"{bad + 1}.00</Amt>".encode(), b"12,50</Amt>", 1)
        expected = one_process("bad.xml", data)
        assert expected[0] == "refused" and "entry" in expected[1]
        assert outcome("bad.xml", data) == expected


@pytest.mark.parametrize("failure", ["raises", "dies", "garbage", "short", "twice", "missing", "skeleton", "no runs",
                                     "statements out of order"])
def test_a_child_that_fails_only_means_reading_the_file_here(forks, read_again, monkeypatch, failure):
    data = statements_file(warn_at={2, 8}, count=300)  # many segments
    expected = parsed("three.xml", data)
    real = camt._from_front

    def job(path, data, split, chunks, send):
        sent = []

        def spoiled(value):
            sent.append(value)
            if failure == "dies" and len(sent) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            if failure == "garbage" and len(sent) == 2:
                return send([{"not": "a segment"}])
            if failure == "short" and len(sent) == 2:
                value[1].pop()  # a run of the segment left out
            if failure == "missing" and len(sent) == 2:
                return None
            if failure == "skeleton" and len(sent) == 1:
                value[2].pop()
            if failure == "no runs" and len(sent) == 1:
                value[1][-1] = 0
            if failure == "statements out of order" and len(sent) == 1:
                value[2].reverse()
            send(value)
            if failure == "twice" and len(sent) == 2:
                send(value)

        if failure == "raises":
            raise RuntimeError("child dies")
        return real(path, data, split, chunks, spoiled)

    monkeypatch.setattr(camt, "_from_front", job)
    got = outcome("three.xml", data)
    assert got == expected and got.warnings == expected.warnings
    assert read_again == ["three.xml"]


@pytest.mark.parametrize("slow", ["child", "parent"])
def test_the_two_share_the_segments_whatever_their_speed(forks, read_again, monkeypatch, slow):
    """A side held up after its first segment leaves the other every other
    segment; every segment is read once, and the entries come out in order."""
    data = statements_file(warn_at={3, 150, 290}, count=300)
    expected = parsed("three.xml", data)
    segments = len(camt._split(data).segments)
    assert segments >= 8
    parent, real = os.getpid(), camt._take
    mine = []  # the segments this process read

    def take(path, data, split, next_segment, runs_of, trees, done, *, plain):
        chunks, waited = next_segment.__self__, []

        def slowed(segment, read):
            if os.getpid() == parent:
                mine.append(segment)
            if (os.getpid() == parent) == (slow == "parent") and not waited:
                waited.append(1)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:  # until the other side took the rest
                    front, back = struct.unpack_from("qq", chunks._shared, 0)
                    if front >= back:
                        break
                    time.sleep(0.002)
            return done(segment, read)

        return real(path, data, split, next_segment, runs_of, trees, slowed, plain=plain)

    monkeypatch.setattr(camt, "_take", take)
    got = outcome("three.xml", data)
    assert got == expected and got.warnings == expected.warnings and not read_again
    assert len(mine) == (segments - 1 if slow == "child" else 1)
    assert mine == sorted(mine, reverse=True)  # from the back


def _cut_case(name: str) -> bytes:
    """``statements_file`` changed in one way; see ``CUT_CASES``."""
    data = statements_file(warn_at={5}, count=30)
    second = data.index(b"<Ntry>", data.index(b"<Ntry>") + 1)
    fourth = data.index(b"<Ntry>", data.index(b"<Ntry>", second + 1) + 1)
    changes = {
        "prefixed": lambda d: d.replace(b"<", b"<c:").replace(b"<c:/", b"</c:").replace(b"<c:?", b"<?")
        .replace(f'xmlns="{NS}"'.encode(), f'xmlns:c="{NS}"'.encode()),
        "comment before the root": lambda d: d.replace(b"?>\n", b"?><!-- from the bank <Ntry> -->\n", 1),
        "latin-1": lambda d: d.replace(b"<?xml version=\"1.0\"?>", b'<?xml version="1.0" encoding="ISO-8859-1"?>')
        .replace(b"<AcctSvcrRef>R4<", "<AddtlNtryInf>Zürich Genève</AddtlNtryInf><AcctSvcrRef>R4<".encode("latin-1")),
        "crlf": lambda d: d.replace(b"\n", b"\r\n"),
        "text that looks like an end": lambda d: d.replace(b"<AcctSvcrRef>R4<", b"<AddtlNtryInf>a Stmt&gt; b Stmt> c Ntry></AddtlNtryInf><AcctSvcrRef>R4<"),
        "a statement without entries": lambda d: d.replace(b"<Stmt><Id>S2</Id>", b"<Stmt><Id>S0</Id></Stmt><Stmt><Id>S2</Id>"),
        "empty elements": lambda d: d.replace(b"<AcctSvcrRef>R4<", b"<AddtlNtryInf/><NtryRef></NtryRef><AcctSvcrRef>R4<"),
        "an entry start tag with attributes": lambda d: d[:fourth] + d[fourth:].replace(b"<Ntry>", b'<Ntry a="1" >', 1),
        "a prefix bound to the camt namespace too": lambda d: d.replace(
            f'xmlns="{NS}"'.encode(), f'xmlns="{NS}" xmlns:c="{NS}"'.encode())
        .replace(b"<Sts>BOOK</Sts>", b"<c:Sts>BOOK</c:Sts>"),
        "a prefix of another namespace": lambda d: d.replace(
            f'xmlns="{NS}"'.encode(), f'xmlns="{NS}" xmlns:o="urn:other"'.encode())
        .replace(b"<AcctSvcrRef>R4<", b"<o:AddtlNtryInf>not ours</o:AddtlNtryInf><AcctSvcrRef>R4<"),
        # the cut would be wrong here: these are read again in one process
        "an entry out of any namespace": lambda d: d[:fourth] + b'<Ntry xmlns=""><Amt>5</Amt></Ntry>' + d[fourth:],
        "a detail out of any namespace": lambda d: d.replace(b"<AcctSvcrRef>R4<", b'<AddtlNtryInf xmlns="">not ours</AddtlNtryInf><AcctSvcrRef>R4<'),
        "an entry in a comment": lambda d: d[:fourth] + b"<!-- <Ntry><Amt Ccy='CHF'>1.00</Amt></Ntry> -->" + d[fourth:],
        "an entry in CDATA": lambda d: d.replace(b"<AcctSvcrRef>R4<", b"<AddtlNtryInf><![CDATA[</Ntry><Ntry>]]></AddtlNtryInf><AcctSvcrRef>R4<"),
        "our marker in the file": lambda d: d[:fourth] + b"<?isu-cut 1?>" + d[fourth:],
        "a balance between entries": lambda d: d[:fourth] + d[d.index(b"<Bal>"):d.index(b"</Bal>") + 6] + d[fourth:],
        "an entry of another namespace": lambda d: d[:fourth] + b'<Ntry xmlns="urn:other"><Amt>5</Amt></Ntry>' + d[fourth:],
        "a statement with a namespace of its own": lambda d: d.replace(b"<Stmt><Id>S2", b'<Stmt xmlns:x="urn:x"><Id>S2'),
        "a statement end with a space": lambda d: d.replace(b"</Stmt>", b"</Stmt >", 1),
        "utf-16": lambda d: d.replace(b"<?xml version=\"1.0\"?>", b'<?xml version="1.0" encoding="UTF-16"?>')
        .decode().encode("utf-16"),
        "an entry cut short": lambda d: d.replace(b"</Ntry>", b"", 1),
        "an entry left open at the end": lambda d: d.replace(b"</Ntry></Stmt>\n</BkTo", b"</Stmt>\n</BkTo"),
        "an end tag too many": lambda d: d[:fourth] + b"</Ntry>" + d[fourth:],
        "an entry too deep": lambda d: d[:fourth] + b"<X><Ntry><Amt>1</Amt></Ntry></X>" + d[fourth:],
    }
    return changes[name](data)


CUT_CASES = {  # name: read on two cores (else read again in one process)
    "prefixed": True, "comment before the root": True, "latin-1": True, "crlf": True,
    "text that looks like an end": True, "a statement without entries": True, "empty elements": True,
    "an entry start tag with attributes": True,
    "a prefix bound to the camt namespace too": True, "a prefix of another namespace": True,
    "an entry out of any namespace": False, "a detail out of any namespace": False,
    "an entry in a comment": False, "an entry in CDATA": False, "our marker in the file": False,
    "a balance between entries": False, "an entry of another namespace": False,
    "a statement with a namespace of its own": False, "a statement end with a space": False, "utf-16": False,
    "an entry cut short": False, "an entry left open at the end": False, "an end tag too many": False,
    "an entry too deep": False,
}


@pytest.mark.parametrize("name", CUT_CASES)
def test_markup_placed_to_fool_the_cut_reads_as_one_process_reads_it(forks, read_again, name):
    """Where the cut holds the file is read on two cores; where it would not
    (an entry in a comment or CDATA, a balance among the entries, ...) the
    file is read again here, and the result (or refusal) is the one-process one."""
    data = _cut_case(name)
    assert data != statements_file(warn_at={5}, count=30)
    expected = one_process("cut.xml", data)
    got = outcome("cut.xml", data)
    assert got == expected
    if isinstance(got, ParseResult):
        assert got.warnings == expected.warnings
    on_two_cores = bool(forks) and not read_again
    assert on_two_cores == CUT_CASES[name], (expected if not isinstance(expected, ParseResult) else "parsed")
    if name == "latin-1":
        assert any(e.text == "Zürich Genève" for s in got.statements for e in s.entries)


def test_chunks_are_taken_once_from_either_end():
    with twocores.Chunks.create(5) as chunks:
        assert [chunks.front(), chunks.back(), chunks.front(), chunks.back(), chunks.front()] == [0, 4, 1, 3, 2]
        assert chunks.front() is None and chunks.back() is None
    with twocores.Chunks.create(0) as chunks:
        assert chunks.front() is None and chunks.back() is None


def test_no_fork_when_not_allowed(forks, monkeypatch):
    data = statements_file(warn_at=set())
    monkeypatch.setattr(camt, "PARALLEL_MIN_BYTES", len(data) + 1)
    outcome("small.xml", data)
    monkeypatch.setattr(camt, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(twocores.threading, "active_count", lambda: 2)  # a web server's threads
    outcome("threads.xml", data)
    monkeypatch.setattr(twocores.threading, "active_count", lambda: 1)
    monkeypatch.setattr(twocores, "ENABLED", False)
    outcome("not-the-cli.xml", data)
    assert forks == []


def test_plain_entries_round_trip_exactly():
    result = parse_bytes("x.xml", statements_file(warn_at=set()))
    for path in CAMT_FILES:
        try:
            result.statements += parse_bytes(path, path.read_bytes()).statements
        except BadFile:
            pass
    entries = [e for s in result.statements for e in s.entries]
    assert any(d.instructed for e in entries for d in e.details)
    assert any(d.charges for e in entries for d in e.details) and any(d.rate for e in entries for d in e.details)
    for entry in entries:
        again = entry_from_plain(plain_entry(entry))
        assert again == entry and repr(again) == repr(entry)  # Decimal exponents too
    with pytest.raises((ValueError, TypeError, IndexError)):
        entry_from_plain(["too", "short"])


def test_leaving_early_kills_the_child():
    started = time.monotonic()
    helper = twocores.start(lambda: time.sleep(60))
    assert helper is not None
    pid = helper._pid
    with pytest.raises(KeyError), helper:
        raise KeyError("the parent's own half failed")
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # killed and collected
    assert time.monotonic() - started < 30


TWO_CORE_FUZZ = settings(max_examples=int(os.environ.get("ISU_FUZZ_EXAMPLES", 25)), deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@TWO_CORE_FUZZ
@given(data=mutated(XML_SEEDS))
def test_fuzzed_camt_reads_the_same_on_two_cores(forks, data):
    expected = one_process("fuzzed.xml", data)
    assert outcome("fuzzed.xml", data) == expected


_MARKUP = [
    b"<!-- <Ntry> -->", b"<?isu-cut 0?>", b"<?isu-cut 1?>", b"</Stmt>", b"<Stmt>", b"<Ntry>", b"</Ntry>",
    b"<Ntry/>", b"<Bal/>", b"<![CDATA[</Ntry><Ntry>]]>", b"Stmt>", b"</Ntry></Stmt><Stmt>",
    f'<c:Ntry xmlns:c="{NS}"></c:Ntry>'.encode(), b'<Stmt xmlns:x="urn:x">', b"\xff",
]


@TWO_CORE_FUZZ
@given(inserts=st.lists(st.tuples(st.booleans(), st.integers(0, 10**6), st.sampled_from(_MARKUP)),
                        min_size=1, max_size=3))
def test_markup_put_anywhere_reads_as_one_process_reads_it(forks, inserts):
    """Markup that could fool the cut, at tag boundaries (or anywhere)."""
    import re

    data = statements_file(warn_at={2, 20}, count=30)
    for at_a_tag, at, markup in inserts:
        tags = [m.start() for m in re.finditer(rb"<", data)]
        at = tags[at % len(tags)] if at_a_tag else at % (len(data) + 1)
        data = data[:at] + markup + data[at:]
    expected = one_process("markup.xml", data)
    got = outcome("markup.xml", data)
    assert got == expected
    if isinstance(got, ParseResult):
        assert got.warnings == expected.warnings


def test_a_streaming_child_sends_values_while_it_works(tmp_path):
    flag = tmp_path / "go-on"

    def job(send):
        send(["first", 1])
        deadline = time.monotonic() + 20
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        send(["second", 2])

    helper = twocores.start(job, streaming=True)
    assert helper is not None
    with helper:
        seen, deadline = [], time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            seen = helper.received(tuple)
            time.sleep(0.005)
        assert seen == [("first", 1)]  # while the child still works
        flag.touch()
        assert helper.received(tuple, wait=True) == [("second", 2)]
        assert helper.received(tuple) == []


@pytest.mark.parametrize("failure", ["dies", "refused"])
def test_a_streaming_child_that_fails_gives_nothing_more(failure):
    def job(send):
        send([1])
        send([2])
        if failure == "dies":
            os.kill(os.getpid(), signal.SIGKILL)
        send([3])

    def decode(value):
        if failure == "refused" and value == [2]:
            raise ValueError("not a value of ours")
        return value

    helper = twocores.start(job, streaming=True)
    with helper:
        assert helper.received(decode, wait=True) is None
        assert helper.received(decode) is None and helper.received(decode, wait=True) is None


_CLI_PARSE = """
import sys
from ledger import twocores
from app.cli.main import main
started = []
real_start = twocores.start
twocores.start = lambda *a, **k: started.append(1) or real_start(*a, **k)
sys.argv = ["isu-ledger", "parse", sys.argv[1], "--json"]
code = main()
print(len(started), file=sys.stderr)
sys.exit(code)
"""


def test_the_command_line_reads_a_big_statement_on_two_cores(tmp_path):
    """``isu-ledger parse FILE --json`` of a 5,000-entry statement (over the
    4 MB threshold): it is read on two cores, and the JSON is the one-process JSON."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        from import_bench import generate
    finally:
        sys.path.pop(0)
    from importers.parse import parse_file, to_json

    path = tmp_path / "big.camt053.xml"
    generate(path, 5000)
    assert path.stat().st_size > camt.PARALLEL_MIN_BYTES
    done = subprocess.run([sys.executable, "-c", _CLI_PARSE, str(path)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], check=True)
    assert done.stderr.strip() == "1"  # the child started
    assert json.loads(done.stdout) == json.loads(json.dumps(to_json(parse_file(path))))
