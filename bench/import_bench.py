"""How fast is an import? Prints figures; not a test.

    .venv/bin/python bench/import_bench.py [--entries 20000]

Generates one camt.053.001.08 statement of the ISU account with N entries in
a temporary directory - receipts from many States of the registry, in CHF
and in EUR/USD with exchange rates, batches of several States, charges
deducted, a few ambiguous payers, GICHD transfers and bank fees - then prints

1. parse + identify throughput in entries per second (target >= 20,000/s),
2. the end-to-end ``isu-ledger import`` time into a fresh ledger beside a bare
   ``bean-check`` of the resulting ledger (target: import <= 2x bean-check).
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from importers.api import parse_file  # noqa: E402
from importers.identify import identify  # noqa: E402
from ledger.registry import Registry  # noqa: E402

IBAN = "CH4500240240FP1006276"
OPENING = Decimal("1000000.00")
CENT = Decimal("0.01")


def _ntry(ref: str, day: datetime.date, amount: Decimal, credit: bool, details: str, batch: int = 0) -> str:
    btch = f"<Btch><NbOfTxs>{batch}</NbOfTxs></Btch>" if batch else ""
    return (
        f'<Ntry><Amt Ccy="CHF">{amount}</Amt><CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>'
        f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
        f"<AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls>{btch}{details}</NtryDtls></Ntry>\n"
    )


def _txdtls(amount: Decimal, credit: bool, payer: str, country: str, remittance: str, *,
            instructed: tuple[Decimal, str, Decimal] | None = None, charges: Decimal | None = None,
            iban: str | None = None) -> str:
    fx = ""
    if instructed:
        inst, ccy, rate = instructed
        fx = (
            f'<AmtDtls><InstdAmt><Amt Ccy="{ccy}">{inst}</Amt></InstdAmt><TxAmt><Amt Ccy="CHF">{amount + (charges or 0)}</Amt>'
            f"<CcyXchg><SrcCcy>{ccy}</SrcCcy><TrgtCcy>CHF</TrgtCcy><UnitCcy>{ccy}</UnitCcy><XchgRate>{rate}</XchgRate></CcyXchg></TxAmt></AmtDtls>"
        )
    chrg = ""
    if charges:
        chrg = (
            f'<Chrgs><TtlChrgsAndTaxAmt Ccy="CHF">{charges}</TtlChrgsAndTaxAmt><Rcrd><Amt Ccy="CHF">{charges}</Amt>'
            "<CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>true</ChrgInclInd></Rcrd></Chrgs>"
        )
    party = "Dbtr" if credit else "Cdtr"
    account = f"<{party}Acct><Id><IBAN>{iban}</IBAN></Id></{party}Acct>" if iban else ""
    return (
        f'<TxDtls><Amt Ccy="CHF">{amount}</Amt><CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>{fx}{chrg}'
        f"<RltdPties><{party}><Pty><Nm>{payer}</Nm><PstlAdr><Ctry>{country}</Ctry></PstlAdr></Pty></{party}>{account}</RltdPties>"
        f"<RmtInf><Ustrd>{remittance}</Ustrd></RmtInf></TxDtls>"
    )


def generate(path: Path, n: int, seed: int = 2025) -> tuple[Decimal, datetime.date, datetime.date]:
    """Write an N-entry statement; returns (closing balance, opening date, closing date)."""
    rng = random.Random(seed)
    registry = Registry.load(None)
    payers = []
    for c in registry.contributors():
        if c.kind != "state_party" or not c.iso2 or c.iso2 == "CH":
            continue
        name = (c.ministries[0] if c.ministries else f"Government of {c.name}").upper()
        payers.append((name, c.iso2))
    texts = ["ISU {y} Core Work Plan", "UAM PLAN DE TRAVAIL {y}", "APORTE DAA {y}", "ISU FY{y}", "CONTRIBUTION {y}"]
    start = datetime.date(2025, 1, 1)
    balance = OPENING
    chunks = []
    for i in range(n):
        day = start + datetime.timedelta(days=i * 365 // n)
        ref = f"B{i:08d}"
        kind = rng.random()
        if kind < 0.08:  # GICHD transfer
            amount = Decimal(rng.randrange(1000, 5000)) * 10
            chunks.append(_ntry(ref, day, amount, False, _txdtls(amount, False, "GICHD", "CH", f"ISU costs {day:%Y-%m}",
                                                                     iban="CH1000240240FP1000010")))
            balance -= amount
        elif kind < 0.10:  # bank fee
            amount = Decimal("25.00")
            chunks.append(_ntry(ref, day, amount, False, "<TxDtls><RmtInf><Ustrd>ACCOUNT MAINTENANCE FEE</Ustrd></RmtInf></TxDtls>"))
            balance -= amount
        elif kind < 0.20:  # batch of 2-4 States
            parts = []
            total = Decimal(0)
            for _ in range(rng.randint(2, 4)):
                name, iso2 = rng.choice(payers)
                amount = Decimal(rng.randrange(100000, 5000000)) / 100
                total += amount
                parts.append(_txdtls(amount, True, name, iso2, rng.choice(texts).format(y=2025)))
            chunks.append(_ntry(ref, day, total, True, "".join(parts), batch=len(parts)))
            balance += total
        elif kind < 0.22:  # ambiguous payer
            amount = Decimal(rng.randrange(1000, 9000)) * 10
            chunks.append(_ntry(ref, day, amount, True, _txdtls(amount, True, "MINISTRY OF FOREIGN AFFAIRS", "CH", "VOLUNTARY CONTRIBUTION")))
            balance += amount
        else:  # a receipt, often in EUR/USD, sometimes net of charges
            name, iso2 = rng.choice(payers)
            gross = Decimal(rng.randrange(100000, 20000000)) / 100
            instructed = None
            charges = None
            if rng.random() < 0.5:
                rate = Decimal(rng.choice(["0.9410", "0.89124", "0.9385"]))
                inst = (gross / rate).quantize(CENT)
                gross = (inst * rate).quantize(CENT)
                instructed = (inst, rng.choice(["EUR", "USD"]), rate)
            if rng.random() < 0.2:
                charges = Decimal("20.00")
            net = gross - (charges or 0)
            text = rng.choice(texts).format(y=rng.choice([2025, 2025, 2025, 2026]))
            chunks.append(_ntry(ref, day, net, True, _txdtls(net, True, name, iso2, text, instructed=instructed, charges=charges)))
            balance += net
    opening_day = start - datetime.timedelta(days=1)
    closing_day = datetime.date(2025, 12, 31)
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>\n'
        "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2025-12-31T23:00:00</CreDtTm></GrpHdr>\n"
        f"<Stmt><Id>BENCH-2025</Id><CreDtTm>2025-12-31T23:00:00</CreDtTm><Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>CHF</Ccy></Acct>\n"
        f'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{OPENING}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{opening_day}</Dt></Dt></Bal>\n'
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{abs(balance)}</Amt><CdtDbtInd>{"CRDT" if balance >= 0 else "DBIT"}</CdtDbtInd><Dt><Dt>{closing_day}</Dt></Dt></Bal>\n'
    )
    path.write_text(head + "".join(chunks) + "</Stmt></BkToCstmrStmt></Document>\n", encoding="utf-8")
    return balance, opening_day, closing_day


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=20000)
    args = ap.parse_args()
    env = dict(os.environ)
    for key, value in {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@isu-ledger.invalid",
                       "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@isu-ledger.invalid"}.items():
        env.setdefault(key, value)
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="isu-bench-") as tmp:
        tmp = Path(tmp)
        statement = tmp / "bench-2025.camt053.xml"
        _, opening_day, _ = generate(statement, args.entries)
        print(f"generated {args.entries} entries ({statement.stat().st_size / 1e6:.1f} MB)")

        registry = Registry.load(None)
        t0 = time.perf_counter()
        result = parse_file(statement)
        t1 = time.perf_counter()
        receipts = 0
        for st in result.statements:
            for entry in st.entries:
                if entry.amount > 0:
                    for detail in entry.details:
                        identify(detail, entry, registry=registry, rules=[], booking_date=entry.booked)
                        receipts += 1
        t2 = time.perf_counter()
        n = len(result.statements[0].entries)
        print(f"parse:            {n / (t1 - t0):>10,.0f} entries/s ({t1 - t0:.2f} s)")
        print(f"identify:         {receipts / (t2 - t1):>10,.0f} receipts/s ({receipts} receipts, {t2 - t1:.2f} s)")
        print(f"parse + identify: {n / (t2 - t0):>10,.0f} entries/s (target >= 20,000)")

        ledger = tmp / "books"
        cli = [sys.executable, "-m", "ledger.cli", "--ledger", str(ledger)]
        subprocess.run([*cli, "init", "--opening-balance", str(OPENING), "--as-of", str(opening_day)],
                       check=True, env=env, capture_output=True, cwd=REPO)
        t3 = time.perf_counter()
        done = subprocess.run([*cli, "import", str(statement)], env=env, capture_output=True, text=True, cwd=REPO)
        t4 = time.perf_counter()
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return 1
        print(done.stdout.strip().splitlines()[-1])
        check = bin_dir / "bean-check"
        t5 = time.perf_counter()
        subprocess.run([str(check), str(ledger / "main.beancount")], check=True, env=env, cwd=REPO)
        t6 = time.perf_counter()
        print(f"import end to end: {t4 - t3:.2f} s; bare bean-check of the result: {t6 - t5:.2f} s; "
              f"ratio {(t4 - t3) / (t6 - t5):.2f} (target <= 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
