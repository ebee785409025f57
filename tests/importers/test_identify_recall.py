"""Identification recall on payer names as banks write them, with precision kept.

Payer fields are cut to 35 characters and upper-cased, so ministries arrive
abbreviated ("MIN. DES AFF. ETRANGERES", "MINISTERIO DE RR.EE.", "UTRIKESDEP.").
The packaged registry (ministry names and abbreviations from the ministries'
own sites, docs/identification.md) must still recognise them, while a wrong
State stays impossible: shared acronyms ("MOFA", "DFAT") decide nothing, a
company or a person named after a country is no evidence for it, and a
State's mission abroad is not contradicted by its host country's bank.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from common.cli import cli
from common.statements import write_camt053

from importers.identify import identify
from importers.model import Detail, Entry
from ledger.registry import Registry

BOOKED = datetime.date(2026, 3, 10)
IBAN = {
    "DE": "DE02120300000000202051",
    "FR": "FR7630006000011234567890189",
    "GB": "GB82WEST12345698765432",
    "CH": "CH5604835012345678009",
    "US": None,
}


@pytest.fixture(scope="module")
def reg() -> Registry:
    return Registry.load()


def attribute(reg, payer, *, account=None, country=None, remittance="ISU 2026 CORE WORK PLAN", ultimate=None):
    detail = Detail(
        amount=Decimal("5000.00"), currency="CHF", payer=payer, payer_account=account, payer_country=country,
        ultimate_payer=ultimate, remittance=remittance,
    )  # fmt: skip
    entry = Entry(Decimal("5000.00"), "CHF", BOOKED, BOOKED, "BOOK", details=[detail])
    return identify(detail, entry, registry=reg, rules=[], booking_date=BOOKED)


# Payer lines as they arrive, and the State they name.
ABBREVIATED = [
    ("MIN. DE L EUROPE ET DES AFF. ETRANGERES", "FRA"),
    ("MIN.EUROPE AFF.ETRANGERES", "FRA"),
    ("MINISTERIO DE RR.EE. Y CULTO", "CRI"),
    ("MINISTERIO DE RREE Y CULTO SAN JOSE", "CRI"),
    ("MIN.BUITENLANDSE ZAKEN", "NLD"),
    ("MINISTERIE VAN BUITENLANDSE ZAKEN DEN HAAG", "NLD"),
    ("UTRIKESDEP.", "SWE"),
    ("UTRIKESDEPARTEMENTET STOCKHOLM", "SWE"),
    ("UTENRIKSDEP", "NOR"),
    ("AUSW. AMT", "DEU"),
    ("AUSWAERTIGES AMT BERLIN", "DEU"),
    ("DEPT. FED. DES AFF. ETRANGERES", "CHE"),
    ("MINISTERO AFF. ESTERI E COOP. INTERNAZIONALE", "ITA"),
    ("MINISTERIO DE AA.EE. Y DE COOPERACION", "ESP"),
    ("MIN. DES AFF. ETRANGERES DU SENEGAL", "SEN"),
    ("REP. DU SENEGAL TRESOR PUBLIC", "SEN"),
    ("GOVT OF THE REP. OF KOREA", "KOR"),
    ("MOFA JAPAN", "JPN"),
    ("GAIMUSHO TOKYO", "JPN"),
    ("DFAT AUSTRALIA", "AUS"),
    ("NZ MFAT WELLINGTON", "NZL"),
    ("MIN. DEL PODER POPULAR PARA RR.EE.", "VEN"),
    ("MIN. DE RR.EE. Y MOVILIDAD HUMANA", "ECU"),
    ("ST. LUCIA GOVT", "LCA"),
    ("MIN. OF FOREIGN AFF. AND INTL CO-OPERATION OF SIERRA LEONE", "SLE"),
]


@pytest.mark.parametrize(("payer", "state"), ABBREVIATED, ids=[p for p, _ in ABBREVIATED])
def test_abbreviated_ministries_are_recognised(reg, payer, state):
    got = attribute(reg, payer)
    assert (got.state_party, got.needs_review) == (state, False), got.why


# Names every State's ministry has: never a State, not even as a suggestion.
SHARED = [
    "MOFA",
    "DFAT",
    "MFAT",
    "DFA",
    "MFA",
    "MIN. DES AFF. ETRANGERES",
    "MINISTERE DES AFFAIRES ETRANGERES",
    "MINISTERIO DE RR.EE.",
    "MINISTERIO DE RELACIONES EXTERIORES",
    "MIN. OF FOREIGN AFF.",
    "MINISTERIO DAS RELACOES EXTERIORES",
    "MINISTERIO DOS NEGOCIOS ESTRANGEIROS",
]


@pytest.mark.parametrize("payer", SHARED)
def test_shared_ministry_names_and_acronyms_never_decide(reg, payer):
    got = attribute(reg, payer)
    assert got.needs_review and got.state_party is None and got.suggestion is None, got.why


@pytest.mark.parametrize("payer", ["MOFA", "DFAT", "MIN. DES AFF. ETRANGERES", "MIN. OF FOREIGN AFF."])
def test_shared_names_are_generic_for_rules_and_aliases(reg, payer):
    """A staff alias of a shared name is refused: it would name every State."""
    assert reg.alias_refusal("AUS", payer) is not None


# A State's diplomatic mission abroad banks in its host country.
MISSIONS = [
    ("EMBASSY OF JAPAN", IBAN["DE"], "DE", "JPN"),
    ("EMB. OF JAPAN BERLIN", IBAN["DE"], "DE", "JPN"),
    ("AMBASSADE DE FRANCE A LONDRES", IBAN["GB"], "GB", "FRA"),
    ("HIGH COMMISSION OF CANADA", IBAN["GB"], "GB", "CAN"),
    ("EMBAJADA DE COLOMBIA", IBAN["FR"], None, "COL"),
    ("CONSULADO GENERAL DE MEXICO", None, "US", "MEX"),
    ("PERMANENT MISSION OF NORWAY", IBAN["CH"], "CH", "NOR"),
]


@pytest.mark.parametrize(("payer", "account", "country", "state"), MISSIONS, ids=[m[0] for m in MISSIONS])
def test_a_mission_abroad_is_not_contradicted_by_its_host(reg, payer, account, country, state):
    got = attribute(reg, payer, account=account, country=country)
    assert (got.state_party, got.needs_review) == (state, False), got.why
    assert "host country" in got.why


def test_a_mission_naming_two_states_goes_to_review(reg):
    got = attribute(reg, "EMBASSY OF GERMANY IN FRANCE", account=IBAN["FR"])
    assert got.needs_review and got.state_party is None


def test_the_host_rule_is_for_missions_only(reg):
    """A ministry paying from a foreign account is a conflict: review, suggested, marked."""
    got = attribute(reg, "FEDERAL FOREIGN OFFICE", account=IBAN["FR"], country="FR")
    assert got.needs_review and got.suggestion == "DEU"
    assert got.conflict and "FR" in got.conflict and "\n" not in got.conflict


def test_a_supported_suggestion_is_no_conflict(reg):
    got = attribute(reg, "MINISTRY OF FOREIGN AFFAIRS", account=IBAN["DE"], country="DE")
    assert got.needs_review and got.suggestion == "DEU" and got.conflict is None


# Companies and persons named after a country.
NAMESAKES = [
    ("TOGO TRAVEL LTD", None, None),
    ("PANAMA HATS SA", None, None),
    ("PANAMA HATS S.A.", None, None),
    ("CHILE FOODS GMBH", IBAN["DE"], "DE"),
    ("MR JORDAN SMITH", None, None),
    ("SENEGAL IMPORT EXPORT SARL", IBAN["FR"], "FR"),
    ("BRAZIL HOLDINGS INC", None, "US"),
]


@pytest.mark.parametrize(("payer", "account", "country"), NAMESAKES, ids=[n[0] for n in NAMESAKES])
def test_a_company_or_person_named_after_a_country_is_no_evidence(reg, payer, account, country):
    got = attribute(reg, payer, account=account, country=country)
    assert got.needs_review and got.state_party is None, got.why
    named = {m.iso3 for m in reg.find_names(payer)}
    assert got.suggestion not in named, got.why
    assert "company or a person" in got.why


def test_a_company_naming_a_state_in_its_text_only_suggests(reg):
    got = attribute(reg, "TOGO TRAVEL LTD", remittance="CONTRIBUTION OF TOGO ISU 2026")
    assert got.needs_review and got.state_party is None and got.suggestion == "TGO"


def test_a_state_paying_through_a_company_is_read_from_the_ultimate_payer(reg):
    got = attribute(reg, "WESTERN UNION LTD", ultimate="REPUBLIQUE TOGOLAISE")
    assert (got.state_party, got.needs_review) == ("TGO", False), got.why


def test_every_packaged_ministry_and_alias_names_one_contributor(reg):
    """A ministry or alias shared by two codes would be a conflict on every receipt."""
    for c in reg.contributors():
        for name in (*c.ministries, *c.aliases):
            found = reg.lookup(name)
            if found is None:  # shared on purpose ("Congo" for COG and COD)
                assert {m.iso3 for m in reg.find_names(name)} >= {c.iso3}, name
                continue
            assert found == c.iso3, f"{c.iso3} {name!r} -> {found}"


# --- The conflict reaches the review queue --------------------------------------


def test_a_contradicted_suggestion_is_a_conflict_in_the_queue(tmp_path):
    ledger = tmp_path / "books"
    assert cli(ledger, "init", "--opening-balance", "1000.00", "--as-of", "2026-02-28")[0] == 0
    statement = write_camt053(
        tmp_path / "march.xml",
        [
            {"date": "2026-03-10", "amount": "5000.00", "ref": "R1", "name": "FEDERAL FOREIGN OFFICE",
             "text": "ISU 2026 CORE WORK PLAN", "iban": IBAN["FR"]},
            {"date": "2026-03-11", "amount": "700.00", "ref": "R2", "name": "MINISTRY OF FOREIGN AFFAIRS",
             "text": "ISU 2026 CORE WORK PLAN", "iban": IBAN["DE"]},
        ],  # fmt: skip
        opening=("2026-02-28", "1000.00"),
    )
    code, _, err = cli(ledger, "import", str(statement))
    assert code == 0, err
    code, out, _ = cli(ledger, "review", "list", "--json")
    items = {i["payer"]: i for i in json.loads(out)}
    contradicted = items["FEDERAL FOREIGN OFFICE"]["suggestion"]
    assert contradicted["state_party"] == "DEU" and contradicted["conflict"] == "Evidence points to Germany and France"
    supported = items["MINISTRY OF FOREIGN AFFAIRS"]["suggestion"]
    assert supported["state_party"] == "DEU" and supported["conflict"] is None
    code, out, _ = cli(ledger, "review", "list")
    assert "DEU (conflict" in out
