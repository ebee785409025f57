"""Reading a big camt file on two cores (ledger.twocores, importers.camt).

The command line reads a big camt file in two forked children, each parsing
the bytes and taking chunks of entries from either end. Whatever the file -
good, hostile, fuzzed, several statements, warnings in both children's
chunks - the result is exactly the one-process result, or the same one-line
refusal; a child that fails, is held up or sends nonsense only means the
other takes more chunks or the file is read again here.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import importers.camt as camt
from importers.api import parse_bytes
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
    """Two cores allowed for any file size; the forks made are counted."""
    made = []
    real_fork = os.fork

    def fork():
        made.append(1)
        return real_fork()

    monkeypatch.setattr(twocores, "ENABLED", True)
    monkeypatch.setattr(camt, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(twocores.threading, "active_count", lambda: 1)
    monkeypatch.setattr(twocores.os, "fork", fork)
    return made


def one_process(path, data: bytes):
    enabled, twocores.ENABLED = twocores.ENABLED, False
    try:
        return outcome(path, data)
    finally:
        twocores.ENABLED = enabled


@pytest.mark.parametrize("path", CAMT_FILES, ids=lambda p: p.name)
def test_every_camt_file_reads_the_same_on_two_cores(path, forks):
    data = path.read_bytes()
    expected = one_process(path, data)
    assert outcome(path, data) == expected
    assert len(forks) in (0, 2)  # 0: refused before it is even XML (empty, DOCTYPE)


def statements_file(*, warn_at: set[int], count: int = 9) -> bytes:
    """Three statements: the second with a closing balance that does not add
    up, the last with no account currency and no balances (its currency comes
    from its first entry, in the second half); QRR references failing their
    check at ``warn_at``."""
    def entry(n: int) -> str:
        ref = "210000000003139471430009017" if n not in warn_at else "210000000003139471430009018"
        return (f'<Ntry><Amt Ccy="{"EUR" if n >= 2 * count // 3 else "CHF"}">{n + 1}.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
                f"<Sts>BOOK</Sts><BookgDt><Dt>2025-01-{n % 28 + 1:02d}</Dt></BookgDt><AcctSvcrRef>R{n}</AcctSvcrRef>"
                f"<NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp>"
                f"<Ref>{ref}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>")

    def bal(code: str, amount: str) -> str:
        return (f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{amount}</Amt>'
                f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-01-31</Dt></Dt></Bal>")

    third = count // 3
    account = "<Acct><Id><IBAN>CH4500240240FP1006276</IBAN></Id><Ccy>CHF</Ccy></Acct>"
    stmts = [
        "<Stmt><Id>S1</Id>" + account + bal("OPBD", "0") + "".join(entry(n) for n in range(third)) + "</Stmt>",
        "<Stmt><Id>S2</Id>" + account + bal("OPBD", "0") + bal("CLBD", "1.00")
        + "".join(entry(n) for n in range(third, 2 * third)) + "</Stmt>",
        "<Stmt><Id>S3</Id><Acct><Id><IBAN>CH4500240240FP1006276</IBAN></Id></Acct>"
        + "".join(entry(n) for n in range(2 * third, count)) + "</Stmt>",
    ]
    return (f'<?xml version="1.0"?><Document xmlns="{NS}"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>'
            + "".join(stmts) + "</BkToCstmrStmt></Document>").encode()


def test_statements_warnings_and_currencies_come_out_in_one_process_order(forks):
    data = statements_file(warn_at={1, 4, 7})
    expected = one_process("three.xml", data)
    assert isinstance(expected, camt.ParseResult)
    assert [s.currency for s in expected.statements] == ["CHF", "CHF", "EUR"]
    assert sum("fails" in w for w in expected.warnings) == 3 and len(expected.warnings) > 3
    got = outcome("three.xml", data)
    assert got == expected and got.warnings == expected.warnings
    assert len(forks) == 2


def test_a_bad_entry_in_either_half_is_refused_as_one_process_refuses_it(forks):
    for bad in (1, 7):  # first half, second half
        data = statements_file(warn_at=set()).replace(f"{bad + 1}.00</Amt>".encode(), b"12,50</Amt>", 1)
        expected = one_process("bad.xml", data)
        assert expected[0] == "refused" and "entry" in expected[1]
        assert outcome("bad.xml", data) == expected


@pytest.mark.parametrize("child", ["_from_front", "_from_back"])
@pytest.mark.parametrize("failure", ["raises", "dies", "garbage", "short", "twice"])
def test_a_child_that_fails_only_means_reading_the_file_here(forks, monkeypatch, child, failure):
    data = statements_file(warn_at={2, 8}, count=1400)  # several chunks
    expected = parsed("three.xml", data)
    parent, real = os.getpid(), getattr(camt, child)

    def job(path, data, chunks):
        if os.getpid() == parent:
            return real(path, data, chunks)
        if failure == "raises":
            raise RuntimeError("child dies")
        if failure == "dies":
            os.kill(os.getpid(), signal.SIGKILL)
        if failure == "garbage":
            return [{"not": "a result"}]
        count, skeleton, collected = real(path, data, chunks)
        if failure == "short" and collected:
            collected[-1][1].pop()
        if failure == "twice" and collected:
            collected.append(collected[-1])
        return [count, skeleton, collected]

    monkeypatch.setattr(camt, child, job)
    assert outcome("three.xml", data) == expected


def test_the_children_share_the_chunks_whatever_their_speed(forks, monkeypatch):
    """A child held up after its first chunk leaves the other child every
    other chunk; every chunk is read once, and in order."""
    import struct

    data = statements_file(warn_at={3, 1000, 1390}, count=1400)  # 6 chunks
    expected = parsed("three.xml", data)
    real = {name: getattr(camt, name) for name in ("_from_front", "_from_back", "_read", "_decode_part")}
    real_read, real_decode = real["_read"], real["_decode_part"]
    for slow in ("_from_front", "_from_back"):
        me = {}  # set in each child
        for name in ("_from_front", "_from_back"):
            def job(path, data, chunks, name=name, real=real[name]):
                me.update(name=name, chunks=chunks)
                return real(path, data, chunks)

            monkeypatch.setattr(camt, name, job)

        def read(parser, statement, ntry, where, slow=slow):
            if me.get("name") == slow and not me.get("waited"):
                me["waited"] = True
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:  # until the other child took the rest
                    front, back, _total = struct.unpack_from("qqq", me["chunks"]._shared, 0)
                    if front >= back:
                        break
                    time.sleep(0.002)
            return real_read(parser, statement, ntry, where)

        taken = []

        def decode(plain):
            taken.append(len(plain[2]))
            return real_decode(plain)

        monkeypatch.setattr(camt, "_read", read)
        monkeypatch.setattr(camt, "_decode_part", decode)
        assert outcome("three.xml", data) == expected
        assert taken == ([1, 5] if slow == "_from_front" else [5, 1])


def test_chunks_are_taken_once_from_either_end():
    with twocores.Chunks.create() as chunks:
        chunks.size(5)
        chunks.size(5)  # the other process agrees
        assert [chunks.front(), chunks.back(), chunks.front(), chunks.back(), chunks.front()] == [0, 4, 1, 3, 2]
        assert chunks.front() is None and chunks.back() is None
        with pytest.raises(ValueError):
            chunks.size(6)  # the other process counted another job


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


TWO_CORE_FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@TWO_CORE_FUZZ
@given(data=mutated(XML_SEEDS))
def test_fuzzed_camt_reads_the_same_on_two_cores(forks, data):
    expected = one_process("fuzzed.xml", data)
    assert outcome("fuzzed.xml", data) == expected


_CLI_PARSE = """
import sys
from ledger import twocores
from ledger.cli import main
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
    4 MB threshold): two children read it, and the JSON is the one-process JSON."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        from import_bench import generate
    finally:
        sys.path.pop(0)
    from importers.api import parse_file, to_json

    path = tmp_path / "big.camt053.xml"
    generate(path, 5000)
    assert path.stat().st_size > camt.PARALLEL_MIN_BYTES
    done = subprocess.run([sys.executable, "-c", _CLI_PARSE, str(path)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], check=True)
    assert done.stderr.strip() == "2"  # both children started
    assert json.loads(done.stdout) == json.loads(json.dumps(to_json(parse_file(path))))
