"""Identifying the State Party, work plan and year of a receipt (importers/identify.py).

The invariant every case checks: the result is either the right State or a
review item - never another State.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from importers.identify import Attribution, iban_country, identify
from importers.model import Detail, Entry
from ledger import conventions
from ledger.registry import Contributor, Registry
from ledger.rules import Rule

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "year2025"
BOOKED = datetime.date(2025, 6, 12)

# Valid IBANs (check digits) per country, and one with a wrong check digit.
IBAN = {
    "DE": "DE02120300000000202051",
    "FR": "FR7630006000011234567890189",
    "GB": "GB82WEST12345698765432",
    "NO": "NO8330001234567",
    "IE": "IE29AIBK93115212345678",
    "IT": "IT60X0542811101000000123456",
    "CH": "CH5604835012345678009",
}
BAD_FR_IBAN = "FR7630006000011234567890188"


def _c(iso3, iso2, name, kind="state_party", aliases=(), demonyms=(), ministries=()):
    return Contributor(iso3, iso2, name, kind, tuple(aliases), tuple(demonyms), tuple(ministries))


@pytest.fixture(scope="module")
def reg() -> Registry:
    """A small registry of our own: the cases must not depend on the packaged data.

    Italy is deliberately absent: an Italian IBAN points to a non-contributor.
    """
    rows = [
        _c("DEU", "DE", "Germany", demonyms=["German"], ministries=["Federal Foreign Office", "Auswärtiges Amt"]),
        _c("FRA", "FR", "France", ministries=["Ministère de l'Europe et des Affaires étrangères"]),
        _c("NZL", "NZ", "New Zealand", ministries=["Ministry of Foreign Affairs and Trade of New Zealand"]),
        _c("IRL", "IE", "Ireland"),
        _c("CHE", "CH", "Switzerland", aliases=["Confederation suisse"], demonyms=["Swiss", "suisse"], ministries=["DFAE"]),
        _c("NOR", "NO", "Norway", ministries=["Utenriksdepartementet"]),
        _c("BEN", "BJ", "Benin"),
        _c("SEN", "SN", "Senegal"),
        _c("SVK", "SK", "Slovakia"),
        _c("COL", "CO", "Colombia"),
        _c("GBR", "GB", "United Kingdom", ministries=["Foreign, Commonwealth and Development Office"]),
        _c("COG", "CG", "Congo - Brazzaville", aliases=["Congo"]),
        _c("COD", "CD", "Congo - Kinshasa", aliases=["Congo"]),
        _c("USA", "US", "United States", kind="other", aliases=["United States of America"]),
    ]
    return Registry({c.iso3: c for c in rows})


def receipt(payer=None, remittance="ISU 2025 Core Work Plan", account=None, country=None,
            ultimate=None, ultimate_country=None, text=""):  # fmt: skip
    detail = Detail(
        amount=Decimal("1000.00"), currency="CHF", payer=payer, payer_account=account,
        payer_country=country, ultimate_payer=ultimate, ultimate_payer_country=ultimate_country,
        remittance=remittance, text=text,
    )  # fmt: skip
    entry = Entry(Decimal("1000.00"), "CHF", BOOKED, BOOKED, "BOOK", details=[detail])
    return detail, entry


def rule(account=None, name=None, state="NOR", work_plan=None) -> Rule:
    return Rule(account, name, state, work_plan, "finance1", "2025-01-01", "")


def check_invariants(got: Attribution, right: str | None) -> None:
    """Never a wrong State; review items carry no State; confidence is two-decimal 0..1."""
    assert got.state_party in (right, None), f"WRONG STATE {got.state_party} (right: {right}): {got.why}"
    assert got.needs_review == (got.state_party is None)
    assert isinstance(got.confidence, Decimal)
    assert Decimal(0) <= got.confidence <= Decimal(1)
    assert got.confidence == got.confidence.quantize(Decimal("0.01"))
    assert got.why and "\n" not in got.why
    if not got.needs_review:
        assert got.suggestion is None and got.wp_year is not None
        assert got.work_plan in conventions.WORK_PLANS


# name, receipt kwargs, rules, the right State, expected State (None: review), expected suggestion
CASES = [
    ("ministry + own IBAN + own address", dict(payer="FEDERAL FOREIGN OFFICE", account=IBAN["DE"], country="DE"), [], "DEU", "DEU", None),
    ("ministry in another language", dict(payer="AUSWAERTIGES AMT", country="DE"), [], "DEU", "DEU", None),
    ("name says DEU, IBAN says FRA", dict(payer="FEDERAL FOREIGN OFFICE", account=IBAN["FR"], country="DE"), [], "DEU", None, "DEU"),
    ("name says DEU, address says FRA", dict(payer="FEDERAL FOREIGN OFFICE", country="FR"), [], "DEU", None, "DEU"),
    ("name says DEU, IBAN of a non-contributor", dict(payer="FEDERAL FOREIGN OFFICE", account=IBAN["IT"]), [], "DEU", None, "DEU"),
    ("wrong check digits are not evidence", dict(payer="FEDERAL FOREIGN OFFICE", account=BAD_FR_IBAN), [], "DEU", "DEU", None),
    ("mission with a CH IBAN and CH address", dict(payer="NEW ZEALAND PERMANENT MISSION", account=IBAN["CH"], country="CH"), [], "NZL", "NZL", None),
    ("mission naming Geneva, Switzerland", dict(payer="PERMANENT MISSION OF NEW ZEALAND GENEVA SWITZERLAND", account=IBAN["CH"]), [], "NZL", "NZL", None),
    ("mission, remittance mentions Suisse", dict(payer="NEW ZEALAND PERMANENT MISSION", remittance="ISU 2025 VIA UBS SUISSE", country="CH"), [], "NZL", "NZL", None),
    ("Swiss ministry with a CH IBAN", dict(payer="DFAE DIRECTION DU DEVELOPPEMENT", account=IBAN["CH"], country="CH", remittance="ISU 2025 SUISSE"), [], "CHE", "CHE", None),
    ("Swiss name as payer", dict(payer="CONFEDERATION SUISSE", account=IBAN["CH"]), [], "CHE", "CHE", None),
    ("Swiss ministry, remittance names Norway", dict(payer="DFAE", remittance="ISU 2025 NORWAY"), [], None, None, "CHE"),
    ("Switzerland only in the remittance", dict(payer="MINISTRY OF FOREIGN AFFAIRS", account=IBAN["CH"], remittance="ISU 2025 SUISSE"), [], "CHE", None, "CHE"),
    ("generic name, nothing else", dict(payer="MINISTRY OF FOREIGN AFFAIRS", remittance="VOLUNTARY CONTRIBUTION"), [], "SVK", None, None),
    ("generic name, CH account only", dict(payer="PERMANENT MISSION", account=IBAN["CH"], country="CH"), [], None, None, None),
    ("country-only evidence is not enough", dict(payer="MINISTRY OF FOREIGN AFFAIRS", account=IBAN["DE"], country="DE"), [], "DEU", None, "DEU"),
    ("country-only evidence of a non-contributor", dict(payer="TESORERIA", account=IBAN["IT"], country="IT"), [], None, None, "ITA"),
    ("remittance names the State", dict(payer="DEPARTMENT OF FOREIGN AFFAIRS", account=IBAN["IE"], country="IE", remittance="ISU 2025 CWP IRELAND"), [], "IRL", "IRL", None),
    ("remittance names another State", dict(payer="FEDERAL FOREIGN OFFICE", remittance="ISU 2025 NORWAY"), [], None, None, "DEU"),
    ("payer names two States", dict(payer="EMBASSY OF GERMANY IN FRANCE"), [], None, None, None),
    ("a name shared by two States", dict(payer="REPUBLIC OF CONGO TREASURY", remittance="ISU 2025"), [], "COG", None, None),
    ("ultimate payer behind a central bank", dict(payer="BANQUE CENTRALE", ultimate="REPUBLIQUE DU BENIN", remittance="ISU 2025"), [], "BEN", "BEN", None),
    ("ultimate payer country supports", dict(payer="BANQUE CENTRALE", ultimate="REPUBLIQUE DU BENIN", ultimate_country="BJ"), [], "BEN", "BEN", None),
    ("ultimate payer contradicts the payer", dict(payer="REPUBLIQUE DU SENEGAL TRESOR PUBLIC", ultimate="REPUBLIQUE DU BENIN"), [], None, None, None),
    ("a contributor of kind other", dict(payer="UNITED STATES OF AMERICA DEPT OF STATE", country="US"), [], "USA", "USA", None),
    ("the name only in the unsplit text", dict(payer=None, remittance="", text="UTENRIKSDEPARTEMENTET NO8330001234567 ISU 2025"), [], "NOR", "NOR", None),
    # Learned rules
    ("rule by account, generic name", dict(payer="MINISTRY OF FOREIGN AFFAIRS", account=IBAN["NO"]), [rule(IBAN["NO"], None, "NOR")], "NOR", "NOR", None),
    ("rule by account written with spaces", dict(payer="MFA", account="NO83 3000 1234 567"), [rule(IBAN["NO"], None, "NOR")], "NOR", "NOR", None),
    ("rule by account explains its foreign bank", dict(payer="EMBASSY", account=IBAN["GB"], country="GB"), [rule(IBAN["GB"], None, "NZL")], "NZL", "NZL", None),
    ("rule by account, not the ultimate payer's country", dict(payer="EMBASSY", account=IBAN["GB"], ultimate_country="FR"), [rule(IBAN["GB"], None, "NZL")], "NZL", None, "NZL"),
    ("rule by account against a name", dict(payer="FEDERAL FOREIGN OFFICE", account=IBAN["NO"]), [rule(IBAN["NO"], None, "NOR")], None, None, "NOR"),
    ("rule by account against the ultimate payer", dict(payer="BANQUE CENTRALE", ultimate="REPUBLIQUE DU BENIN", account=IBAN["FR"]), [rule(IBAN["FR"], None, "SEN")], "BEN", None, "SEN"),
    ("rule by name", dict(payer="TESORERIA GENERAL DE LA NACION"), [rule(None, "Tesorería General de la Nación", "COL")], "COL", "COL", None),
    ("rule by name, ultimate payer", dict(payer="BANQUE CENTRALE", ultimate="TRESOR XYZ"), [rule(None, "TRESOR XYZ", "SEN")], "SEN", "SEN", None),
    ("rule by name against a foreign IBAN", dict(payer="MINISTRY OF FOREIGN AFFAIRS", account=IBAN["DE"]), [rule(None, "MINISTRY OF FOREIGN AFFAIRS", "SVK")], None, None, "SVK"),
    ("rule by name against a foreign IBAN (distinct name)", dict(payer="TESORERIA GENERAL DE LA NACION", account=IBAN["DE"]), [rule(None, "TESORERIA GENERAL DE LA NACION", "COL")], "COL", None, "COL"),
    ("rule by a generic name only suggests", dict(payer="MINISTRY OF FOREIGN AFFAIRS", remittance="VOLUNTARY CONTRIBUTION 2025"), [rule(None, "MINISTRY OF FOREIGN AFFAIRS", "SVK")], "SVK", None, "SVK"),
    ("rule to a code not in the registry", dict(payer="SOMEONE", account=IBAN["NO"]), [rule(IBAN["NO"], None, "ZZZ")], None, None, "ZZZ"),
    ("rule for another account does not apply", dict(payer="MINISTRY OF FOREIGN AFFAIRS", account=IBAN["DE"]), [rule(IBAN["NO"], None, "NOR")], "DEU", None, "DEU"),
]


@pytest.mark.parametrize("name,kw,rules,right,state,suggestion", CASES, ids=[c[0] for c in CASES])
def test_attribution(reg, name, kw, rules, right, state, suggestion):
    detail, entry = receipt(**kw)
    got = identify(detail, entry, registry=reg, rules=rules, booking_date=BOOKED)
    check_invariants(got, right)
    assert got.state_party == state, got.why
    if state is None:
        assert got.suggestion == suggestion, got.why
    else:
        assert got.wp_year == 2025 and got.work_plan == "core"
        assert got.confidence >= Decimal("0.50")


def test_conflict_names_both_states_in_why(reg):
    detail, entry = receipt(payer="FEDERAL FOREIGN OFFICE", account=IBAN["FR"])
    got = identify(detail, entry, registry=reg, rules=[], booking_date=BOOKED)
    assert got.needs_review and got.suggestion == "DEU"
    assert "conflict between DEU, FRA" in got.why and "against: IBAN FR76… (FR) -> FRA" in got.why
    clean = identify(*receipt(payer="FEDERAL FOREIGN OFFICE"), registry=reg, rules=[], booking_date=BOOKED)
    assert got.confidence < clean.confidence


def test_host_country_is_recorded_as_no_evidence(reg):
    detail, entry = receipt(payer="NEW ZEALAND PERMANENT MISSION", account=IBAN["CH"], country="CH")
    got = identify(detail, entry, registry=reg, rules=[], booking_date=BOOKED)
    sources = {(e.source, e.state_party) for e in got.evidence}
    assert ("iban_country", None) in sources and ("address_country", None) in sources
    assert "host country, no evidence" in got.why


def test_rule_why_and_weight(reg):
    detail, entry = receipt(payer="MFA", account=IBAN["NO"], remittance="ISU 2026")
    got = identify(detail, entry, registry=reg, rules=[rule(IBAN["NO"], None, "NOR")], booking_date=BOOKED)
    assert (got.state_party, got.wp_year) == ("NOR", 2026)
    assert "rule: payer account NO83… -> NOR" in got.why and "'ISU 2026'" in got.why
    assert got.evidence[0].source == "rule" and got.confidence >= Decimal("0.99")


def test_rule_work_plan_applies_when_the_text_names_none(reg):
    rules = [rule(IBAN["NO"], None, "NOR", work_plan="core")]
    got = identify(*receipt(payer="MFA", account=IBAN["NO"], remittance="ISU 2025"), registry=reg, rules=rules, booking_date=BOOKED)
    assert got.work_plan == "core" and got.state_party == "NOR"


# remittance, expected wp_year, needs_review, suggested year, why fragment
YEAR_CASES = [
    ("ISU 2025 Core Work Plan", 2025, False, None, "'ISU 2025' -> 2025"),
    ("ISU 2026 CORE WORK PLAN", 2026, False, None, "-> 2026"),  # advance: booking defers it
    ("CONTRIBUTION UAM 2024", 2024, False, None, "-> 2024"),  # late
    ("APORTE DAA PLAN DE TRABAJO 2025", 2025, False, None, "-> 2025"),
    ("Beitrag 2025", 2025, False, None, "-> 2025"),
    ("VOLUNTARY CONTRIBUTION", 2025, True, 2025, "no year in remittance; booking year assumed"),
    ("ISU 2025-2026", None, True, 2025, "several years in remittance (2025, 2026)"),
    ("ISU 2024 ISU 2025", None, True, 2024, "several years"),
    ("ISU 2019", 2019, True, 2019, "far from the booking year"),
    ("ISU 2031", 2031, True, 2031, "far from the booking year"),
]


@pytest.mark.parametrize("remittance,wp_year,review,suggested,why", YEAR_CASES)
def test_year(reg, remittance, wp_year, review, suggested, why):
    detail, entry = receipt(payer="FEDERAL FOREIGN OFFICE", remittance=remittance, country="DE")
    got = identify(detail, entry, registry=reg, rules=[], booking_date=BOOKED)
    check_invariants(got, "DEU")
    assert (got.wp_year, got.needs_review) == (wp_year, review), got.why
    assert why in got.why
    if review:
        assert got.suggestion == "DEU" and got.suggested_year == suggested


def test_work_plan_without_an_account_goes_to_review(reg):
    detail, entry = receipt(payer="FEDERAL FOREIGN OFFICE", remittance="SPONSORSHIP PROGRAMME 2025")
    got = identify(detail, entry, registry=reg, rules=[], booking_date=BOOKED)
    assert got.work_plan == "sponsorship"
    assert got.needs_review == ("sponsorship" not in conventions.WORK_PLANS)
    if got.needs_review:
        assert "no account in the chart" in got.why and got.suggestion == "DEU"


def test_same_input_same_result(reg):
    args = receipt(payer="FEDERAL FOREIGN OFFICE", account=IBAN["FR"])
    first = identify(*args, registry=reg, rules=[], booking_date=BOOKED)
    assert identify(*args, registry=reg, rules=[], booking_date=BOOKED) == first
    # A rule learned since changes the answer (the memo is keyed on the rule).
    ruled = identify(*args, registry=reg, rules=[rule(IBAN["FR"], None, "DEU")], booking_date=BOOKED)
    assert ruled.state_party == "DEU"


def test_iban_country_checks_digits():
    assert iban_country("DE02 1203 0000 0000 2020 51") == ("DE", True)
    assert iban_country("DE02120300000000202052") == ("DE", False)
    assert iban_country("12345678") == (None, False)
    # Check digits right, but two digits short of a German IBAN: not trusted either.
    assert iban_country("DE86 3704 0044 0532 0130") == ("DE", False)


_STATES = {"DEU": ("FEDERAL FOREIGN OFFICE", "DE"), "NOR": ("UTENRIKSDEPARTEMENTET", "NO"),
           "FRA": ("FRANCE TRESOR", "FR"), "GBR": ("UNITED KINGDOM FCDO", "GB"), "IRL": ("IRELAND DFA", "IE")}  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(_STATES)),
    st.sampled_from(sorted(_STATES) + [None]),
    st.sampled_from(sorted(_STATES) + [None]),
    st.sampled_from(["", "ISU 2025", "VOLUNTARY", "ISU 2025 NORWAY", "ISU 2025 SUISSE", "UAM 2024-2025"]),
)
def test_never_a_state_the_evidence_contradicts(reg, named, iban_of, address_of, remittance):
    """Whatever mix of name, IBAN, address and remittance: the named State or review."""
    payer = _STATES[named][0]
    account = IBAN.get(_STATES[iban_of][1]) if iban_of else None
    country = _STATES[address_of][1] if address_of else None
    got = identify(*receipt(payer=payer, account=account, country=country, remittance=remittance),
                   registry=reg, rules=[], booking_date=BOOKED)  # fmt: skip
    check_invariants(got, named)
    others = {iban_of if account else None, address_of, "NOR" if "NORWAY" in remittance else None} - {None, named}
    if others:
        assert got.needs_review


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60), st.one_of(st.none(), st.text(max_size=34)), st.one_of(st.none(), st.text(max_size=3)))
@example("", "", None, "0\r0")  # a line break in the address country was quoted into ``why``
def test_any_input_gives_a_well_formed_answer(reg, payer, remittance, account, country):
    got = identify(*receipt(payer=payer, remittance=remittance, account=account, country=country),
                   registry=reg, rules=[], booking_date=BOOKED)  # fmt: skip
    assert got.needs_review == (got.state_party is None)
    assert Decimal(0) <= got.confidence <= Decimal(1)
    assert "\n" not in got.why and "\r" not in got.why


def test_why_is_one_line_whatever_the_bank_sent(reg):
    got = identify(*receipt(payer="FEDERAL\nFOREIGN OFFICE", remittance="ISU\r\n2025"), registry=reg, rules=[rule(None, "FEDERAL FOREIGN\nOFFICE", "DEU")], booking_date=BOOKED)
    assert got.state_party == "DEU" and "\n" not in got.why and "\r" not in got.why


# --- The year2025 sample: every receipt against the truth -----------------------


def _sample_receipts():
    from importers import parse as api

    if not SAMPLES.is_dir():
        pytest.skip("../shared samples are missing")
    truth = json.loads((SAMPLES / "expected.json").read_text())["truth"]
    receipts = []
    for path in sorted(SAMPLES.glob("ubs-isu-2025-*")):
        for statement in api.parse_file(path).statements:
            for entry in statement.booked_entries:
                if entry.amount > 0 and not entry.reversal:
                    receipts += [(entry, detail) for detail in entry.details or [Detail(text=entry.text)]]
    return truth, receipts


def _find(receipts, row):
    for entry, detail in receipts:
        said = " ".join(filter(None, (detail.payer, detail.text, entry.text)))
        if str(entry.booked) == row["date"] and row["payer"] in said:
            return entry, detail
    raise AssertionError(f"no receipt for {row['date']} {row['payer']}")


def test_year2025_sample_against_truth():
    truth, receipts = _sample_receipts()
    registry = Registry.load()
    rows = [r for r in truth if not r["reversal"]]
    assert len(rows) == 18
    failures = []
    for row in rows:
        entry, detail = _find(receipts, row)
        got = identify(detail, entry, registry=registry, rules=[], booking_date=entry.booked)
        check_invariants(got, row["state_party"])
        if row["ambiguous"]:
            if not got.needs_review:
                failures.append(f"{row['payer']}: should go to review, got {got.state_party}")
            assert got.suggestion in (None, row["state_party"])
        elif (got.state_party, got.wp_year, got.work_plan) != (row["state_party"], row["wp_year"], "core"):
            failures.append(f"{row['date']} {row['payer']}: want {row['state_party']} {row['wp_year']}, got {got.why}")
    assert not failures, "\n".join(failures)


def test_year2025_receipts_without_truth_go_to_review():
    """The interest credit is no contribution: nothing in it names a State."""
    truth, receipts = _sample_receipts()
    known = {(r["date"], r["payer"]) for r in truth}
    registry = Registry.load()
    for entry, detail in receipts:
        said = " ".join(filter(None, (detail.payer, detail.text, entry.text)))
        if any(d == str(entry.booked) and p in said for d, p in known):
            continue
        got = identify(detail, entry, registry=registry, rules=[], booking_date=entry.booked)
        assert got.needs_review and got.suggestion is None, got.why
