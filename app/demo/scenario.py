"""The demo's story: who pays what, when, how, and what the ISU spends.

Pure and seeded: ``build_scenario(seed, first_year, today)`` uses one
``random.Random(seed)`` and nothing time-dependent except ``today`` (what has
happened by then). It decides every bank entry of every month (rendered by
``app.demo.statements``), the pledges, budgets and their revisions, the
host's expenditure, and - for the staff resolving the review queue - the
truth behind every receipt. ``app.demo.build`` then books all of it through the
product's own functions.

Realism, briefly: States are drawn from the registry each year, weighted
towards the regular donors; each State has one way of paying (its ministry
from its own country in its currency, or its Permanent Mission in Geneva in
CHF from a Swiss account) and writes the remittance in its language, the way
States do ("ISU 2024 Core Work Plan", "UAM 2024 CONTRIBUTION VOLONTAIRE",
"CONTRIBUCION DAA 2024"). Amounts, rates and charges are of the right size.
"""

from __future__ import annotations

import datetime
import random
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from stdnum import iban as stdnum_iban
from stdnum import numdb

from ledger import conventions, money
from ledger.money import ZERO, cents, rounded
from app.demo.statements import (
    CODE_DOMESTIC_RECEIPT,
    CODE_FEE,
    CODE_INTEREST,
    CODE_RECEIPT,
    CODE_TRANSFER,
    BankEntry,
    MonthStatement,
    Party,
    Payment,
    camt053,
    mt940,
    ubs_csv,
)
from ledger.finance.pledges import PledgeSpec
from ledger.registry import Registry

AUDITOR = "A. Auditor"
AUDIT_FIRM = "Example Audit SA"  # the firm the auditor signs for
GICHD_NAME = "GICHD GENEVA INTERNATIONAL CENTRE FOR HUMANITARIAN DEMINING"

# Regular donors weigh more in the draw; tier: L(arge), M(edium), S(mall).
DONORS = {
    "AUS": "L", "AUT": "M", "BEL": "M", "CAN": "L", "CHE": "L", "CHL": "S", "COL": "S", "CYP": "S",
    "CZE": "S", "DEU": "L", "DNK": "M", "DZA": "S", "ESP": "M", "EST": "S", "FIN": "M", "FRA": "M",
    "GBR": "M", "IRL": "M", "ITA": "M", "JPN": "L", "LTU": "S", "LUX": "S", "MEX": "S", "NLD": "L",
    "NOR": "L", "NZL": "M", "PHL": "S", "POL": "S", "PRT": "S", "QAT": "S", "SEN": "S", "SVK": "S",
    "SVN": "S", "SWE": "L", "THA": "S", "TUR": "S", "ZAF": "S", "PER": "S", "ARG": "S", "KHM": "S",
}
EURO = {"AUT", "BEL", "CYP", "DEU", "ESP", "EST", "FIN", "FRA", "GRC", "HRV", "IRL", "ITA", "LTU", "LUX",
        "LVA", "MLT", "NLD", "PRT", "SVK", "SVN"}
CURRENCY = {"NOR": "NOK", "SWE": "SEK", "DNK": "DKK", "GBR": "GBP", "AUS": "AUD", "CAN": "CAD",
            "CHE": "CHF", "LIE": "CHF", "JPN": "CHF"}
FRENCH = {"SEN", "BEL", "LUX", "CIV", "BFA", "MLI", "NER", "TCD", "BEN", "CMR", "COD", "COG", "MDG", "TUN",
          "DZA", "GIN", "TGO", "BDI", "RWA", "GAB", "HTI", "MRT", "FRA", "MCO", "CAF", "DJI", "COM"}
SPANISH = {"ARG", "CHL", "COL", "MEX", "PER", "ESP", "ECU", "URY", "PRY", "BOL", "GTM", "CRI", "PAN", "SLV",
           "HND", "NIC", "DOM", "VEN"}
# CHF per unit, roughly the year's average.
RATES = {
    "EUR": (Decimal("1.0705"), Decimal("1.0812"), Decimal("1.0047"), Decimal("0.9718"), Decimal("0.9526"), Decimal("0.9402"), Decimal("0.9318")),
    "USD": (Decimal("0.9391"), Decimal("0.9142"), Decimal("0.9548"), Decimal("0.8985"), Decimal("0.8804"), Decimal("0.8312"), Decimal("0.7985")),
    "GBP": (Decimal("1.2043"), Decimal("1.2577"), Decimal("1.1784"), Decimal("1.1176"), Decimal("1.1253"), Decimal("1.0998"), Decimal("1.0811")),
    "NOK": (Decimal("0.0999"), Decimal("0.1063"), Decimal("0.0993"), Decimal("0.0848"), Decimal("0.0821"), Decimal("0.0801"), Decimal("0.0789")),
    "SEK": (Decimal("0.1020"), Decimal("0.1065"), Decimal("0.0944"), Decimal("0.0848"), Decimal("0.0835"), Decimal("0.0849"), Decimal("0.0866")),
    "DKK": (Decimal("0.1436"), Decimal("0.1454"), Decimal("0.1350"), Decimal("0.1304"), Decimal("0.1277"), Decimal("0.1260"), Decimal("0.1248")),
    "AUD": (Decimal("0.6478"), Decimal("0.6869"), Decimal("0.6625"), Decimal("0.5967"), Decimal("0.5810"), Decimal("0.5429"), Decimal("0.5352")),
    "CAD": (Decimal("0.7004"), Decimal("0.7292"), Decimal("0.7338"), Decimal("0.6662"), Decimal("0.6426"), Decimal("0.5996"), Decimal("0.5787")),
}
RATE_FIRST_YEAR = 2020
# Multi-year pledges (work plans 2020-2024 and 2025-2029): State -> (amount, currency) per year.
SCHEDULES = {"NOR": (Decimal(1500000), "NOK"), "AUS": (Decimal(150000), "AUD"), "CHE": (Decimal(120000), "CHF")}
BUDGET_SHARES = {"Staff": Decimal("0.60"), "Travel": Decimal("0.08"), "Meetings": Decimal("0.12"),
                 "Communications": Decimal("0.05"), "GICHDServices": Decimal("0.11"), "Other": Decimal("0.04")}
MONTH_WEIGHTS = (3, 5, 5, 4, 4, 3, 2, 1, 2, 2, 2, 1)
GENERIC_PAYERS = ("MINISTRY OF FOREIGN AFFAIRS", "TRESOR PUBLIC", "PERMANENT MISSION", "MINISTERIO DE RELACIONES EXTERIORES",
                  "TREASURY DEPARTMENT PAYMENTS")


def meeting(year: int) -> tuple[str, datetime.date]:
    """The Meeting held in ``year`` (annual; Review Conferences every five years) and its last day."""
    if year == 2024:
        return "Fifth Review Conference (Siem Reap)", datetime.date(2024, 11, 29)
    if year == 2019:
        return "Fourth Review Conference (Oslo)", datetime.date(2019, 11, 29)
    number = 18 + (year - 2020) - (1 if year > 2024 else 0)
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    ends = {2020: datetime.date(2020, 11, 20), 2021: datetime.date(2021, 11, 19), 2022: datetime.date(2022, 11, 25),
            2023: datetime.date(2023, 11, 24), 2025: datetime.date(2025, 12, 5)}
    return f"{number}{suffix} Meeting of the States Parties", ends.get(year, _weekday(datetime.date(year, 11, 20)))


def _weekday(day: datetime.date) -> datetime.date:
    """The day, or the Monday after when it falls on a weekend (no bookings then)."""
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def _last_business_day(year: int, month: int) -> datetime.date:
    day = datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


def _ascii(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)).upper()


def uniform(rng: random.Random, low: str, high: str) -> Decimal:
    """A random Decimal in [low, high] to 1/10000 (money never passes through float)."""
    lo, hi = (int(Decimal(v) * 10000) for v in (low, high))
    return Decimal(rng.randint(lo, hi)) / 10000


def chance(rng: random.Random, percent: int) -> bool:
    return rng.randrange(100) < percent


def rate(currency: str, year: int) -> Decimal:
    table = RATES[currency]
    return table[max(0, min(year - RATE_FIRST_YEAR, len(table) - 1))]


# --- formats -------------------------------------------------------------------------


def month_format(year: int, month: int) -> tuple[str, str]:
    """("camt", "04"|"08"), ("mt940", "") or ("csv", language) for a month's statement."""
    k = (year - RATE_FIRST_YEAR) % 7
    if month == (7, 10, 4, 7, 10, 4, 7)[k]:
        return "mt940", ""
    if month == (2, 5, 9, 11, 2, 6, 8)[k]:
        return "csv", ("en", "de", "fr", "en", "de", "fr", "en")[k]
    return "camt", "04" if year < 2022 else "08"


def render(statement: MonthStatement) -> tuple[str, bytes]:
    kind, detail = month_format(statement.year, statement.month)
    stem = f"ubs-isu-{statement.year}-{statement.month:02d}"
    if kind == "mt940":
        return f"{stem}.mt940", mt940(statement)
    if kind == "csv":
        return f"{stem}-{detail}.csv", ubs_csv(statement, detail)
    return f"{stem}.camt053.xml", camt053(statement, detail)


# --- people ---------------------------------------------------------------------------


_STRUCTURE = re.compile(r"(\d+)!([nac])")
# Free ("c") positions get digits: most banks' account numbers are numeric.
_ALPHABETS = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789"}


class _Accounts:
    """Valid account numbers (IBAN check digits and national checks) per country."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.db = numdb.get("iban")

    def iban(self, iso2: str) -> str | None:
        info = self.db.info(iso2)
        structure = info[0][1].get("bban") if info and info[0][1] else None
        if not structure:
            return None
        for _ in range(200):
            bban = ""
            for count, kind in _STRUCTURE.findall(structure):
                bban += "".join(self.rng.choice(_ALPHABETS[kind]) for _ in range(int(count)))
            number = iso2 + "00" + bban
            number = iso2 + stdnum_iban.calc_check_digits(number) + bban
            if stdnum_iban.is_valid(number):
                return number
        return None


@dataclass(frozen=True)
class Payer:
    """How one State pays, every year."""

    state: str
    style: str  # "ministry" | "mission"
    party: Party
    currency: str
    language: str  # en | fr | es


def _language(iso3: str) -> str:
    """The language a State writes its remittance in: en, fr or es."""
    return "fr" if iso3 in FRENCH else "es" if iso3 in SPANISH else "en"


def _pays_from_mission(iso3: str, currency: str | None, home_iban: str | None, rng: random.Random) -> bool:
    """Whether the State pays from its Permanent Mission in Geneva (in CHF)
    rather than from its capital; the schedules' States pay in their pledge's currency."""
    mission = currency == "CHF" or (currency is None and chance(rng, 60)) or home_iban is None and chance(rng, 50)
    if iso3 in SCHEDULES:
        return SCHEDULES[iso3][1] == "CHF"
    return mission


def _mission_name(registry: Registry, iso3: str, language: str, name_en: str) -> str:
    if language == "fr":
        return f"MISSION PERMANENTE {_ascii(_de(registry.display_name(iso3, 'fr')))} A GENEVE"
    if language == "es":
        return f"MISION PERMANENTE DE {_ascii(registry.display_name(iso3, 'es'))} ANTE LA ONU EN GINEBRA"
    return f"PERMANENT MISSION OF {name_en} TO THE UN IN GENEVA"


def _ministry_name(registry: Registry, contributor, language: str, name_en: str, rng: random.Random) -> str:
    """The registry's name of one of its ministries, else a ministry of foreign affairs in the State's language.

    Both draws are made whatever the registry holds, so that adding a ministry
    to the registry changes that State's payer name, not the rest of the demo.
    """
    ministries = [m for m in contributor.ministries if len(m) > 5]
    use_registry, use_last = chance(rng, 70), chance(rng, 50)
    if ministries and use_registry:
        return _ascii(ministries[-1] if use_last else ministries[0])
    iso3 = contributor.iso3
    if language == "fr":
        return f"MINISTERE DES AFFAIRES ETRANGERES {_ascii(_de(registry.display_name(iso3, 'fr')))}"
    if language == "es":
        return f"MINISTERIO DE RELACIONES EXTERIORES DE {_ascii(registry.display_name(iso3, 'es'))}"
    return f"MINISTRY OF FOREIGN AFFAIRS OF {name_en}"


def _payer(registry: Registry, iso3: str, rng: random.Random, accounts: _Accounts) -> Payer:
    c = registry.get(iso3)
    language = _language(iso3)
    name_en = _ascii(c.name)
    home_iban = accounts.iban(c.iso2) if c.iso2 else None
    currency = CURRENCY.get(iso3) or ("EUR" if iso3 in EURO else None)
    if _pays_from_mission(iso3, currency, home_iban, rng):
        name = _mission_name(registry, iso3, language, name_en)
        party = Party(name, accounts.iban("CH"), "CH", ("Chemin du Petit-Saconnex 28", "1209 Geneve"))
        return Payer(iso3, "mission", party, "CHF", language)
    name = _ministry_name(registry, c, language, name_en, rng)
    account = home_iban or f"{rng.randrange(10**9, 10**10)}"
    ultimate = None
    if not home_iban and chance(rng, 50):  # paid through the central bank, the ministry as ultimate debtor
        ultimate, name = name, f"CENTRAL BANK OF {name_en}"
    party = Party(name, account, c.iso2, (), ultimate, c.iso2 if ultimate else None)
    return Payer(iso3, "ministry", party, currency or "USD", language)


def _de(name: str) -> str:
    """French "de" before a country name ("DE L'ALGERIE", "DE SENEGAL")."""
    return f"DE L'{name}" if name[:1].upper() in "AEIOUÉÎ" else f"DE {name}"


def remittance(language: str, year: int, rng: random.Random) -> str:
    choices = {
        "en": (f"ISU {year} Core Work Plan", f"VOLUNTARY CONTRIBUTION ISU {year}", f"APMBC ISU CONTRIBUTION {year}",
               f"ISU FY{year} CORE WORK PLAN", f"Contribution to the ISU {year} work plan"),
        "fr": (f"UAM {year} CONTRIBUTION VOLONTAIRE", f"CONTRIBUTION UAM PLAN DE TRAVAIL {year}",
               f"Contribution volontaire a l'UAM {year}"),
        "es": (f"CONTRIBUCION DAA {year}", f"APORTE DAA PLAN DE TRABAJO {year}", f"Contribucion voluntaria DAA {year}"),
    }[language]
    return rng.choice(choices)


# --- the plan ---------------------------------------------------------------------------


@dataclass
class Receipt:
    """One contribution as the State sends it."""

    state: str
    wp_year: int
    booked: datetime.date
    gross: Decimal  # CHF the State's payment was worth (before deducted charges)
    party: Party
    remittance: str
    instructed: tuple[Decimal, str] | None = None
    rate: Decimal | None = None
    charges: Decimal | None = None
    remember: bool = False  # staff learn a rule when they resolve it
    group: str = ""  # "batch", "notified-batch", "reversed"


@dataclass
class YearPlan:
    year: int
    states: list[str] = field(default_factory=list)
    budget: tuple[dict[str, Decimal], str, datetime.date] | None = None
    revision: tuple[dict[str, Decimal], str, datetime.date] | None = None
    pledges: list[PledgeSpec] = field(default_factory=list)
    buffer_moves: list[tuple[Decimal, str, datetime.date]] = field(default_factory=list)
    statements: list[MonthStatement] = field(default_factory=list)
    notifications: list[tuple[MonthStatement, BankEntry]] = field(default_factory=list)
    expenditure: list[dict] = field(default_factory=list)


@dataclass
class Scenario:
    seed: int
    today: datetime.date
    buffer_policy: tuple[str, Decimal, str, datetime.date]
    years: dict[int, YearPlan]
    truth: dict[tuple[str, str], tuple[str, int, bool]]  # (bank_ref, gross) -> (State, wp_year, remember)
    languages: dict[str, str] = field(default_factory=dict)  # State -> working language other than English (fr, es)

    @staticmethod
    def render(statement: MonthStatement) -> tuple[str, bytes]:
        return render(statement)


def _cutoff(today: datetime.date) -> datetime.date:
    return today.replace(day=1) - datetime.timedelta(days=1)


def _round_nicely(value: Decimal, currency: str) -> Decimal:
    step = Decimal(10000) if currency in ("NOK", "SEK", "DKK") and value > 100000 else Decimal(1000) if value >= 20000 else Decimal(500)
    return max(step, rounded(value / step, 1) * step)


class _Story:
    def __init__(self, seed: int, first_year: int, today: datetime.date):
        self.rng = random.Random(seed)
        self.first = first_year
        self.today = today
        self.cutoff = _cutoff(today)
        self.registry = Registry.load()
        self.accounts = _Accounts(self.rng)
        states = sorted(self.registry.state_parties())
        self.payers = {s: _payer(self.registry, s, self.rng, self.accounts) for s in states}
        self.states = states
        self.gichd = Party(GICHD_NAME, self.accounts.iban("CH"), "CH", ("Maison de la paix, Chemin Eugene-Rigot 2C", "1202 Geneve"))
        self.deficit_year = first_year + 4

    # -- who pays, how much
    def contributors(self, year: int) -> list[str]:
        count = self.rng.randint(29, 33) if year != self.deficit_year else 27
        chosen = {s for s in SCHEDULES if s in self.payers}
        pool = [s for s in self.states if s not in chosen]
        weights = [12 if s in DONORS else 1 for s in pool]
        while len(chosen) < count:
            chosen.add(self.rng.choices(pool, weights)[0])
        return sorted(chosen)

    def amounts(self, year: int, states: list[str], target: Decimal) -> dict[str, tuple[Decimal, Decimal, str]]:
        """State -> (CHF gross, instructed amount, currency)."""
        out = {}
        fixed = ZERO
        for s in states:
            if s in SCHEDULES:
                amount, currency = SCHEDULES[s]
                chf = amount if currency == "CHF" else cents(amount * rate(currency, year))
                out[s] = (chf, amount, currency)
                fixed += chf
        tiers = {"L": ("9", "20"), "M": ("3", "7"), "S": ("0.3", "1.6")}
        raw = {s: uniform(self.rng, *tiers[DONORS.get(s, "S")]) for s in states if s not in out}
        scale = (target - fixed) / sum(raw.values())
        for s in sorted(raw):
            payer = self.payers[s]
            chf = min(max(raw[s] * scale, Decimal(2000)), Decimal(250000))
            currency = payer.currency
            r = Decimal(1) if currency == "CHF" else rate(currency, year)
            instructed = _round_nicely(chf / r, currency)
            out[s] = (cents(instructed * r) if currency != "CHF" else instructed, instructed, currency)
        return out

    def budget_total(self, year: int) -> Decimal:
        return Decimal(self.rng.randrange(1020, 1160)) * 1000

    def lines(self, total: Decimal) -> dict[str, Decimal]:
        lines = {k: rounded(total * v, 1) for k, v in BUDGET_SHARES.items()}
        lines["Staff"] += total - sum(lines.values())
        return lines

    def day_in(self, year: int, month: int, low: int = 3, high: int = 27) -> datetime.date:
        return _weekday(datetime.date(year, month, self.rng.randint(low, high)))

    # -- the year's receipts
    def receipts(self, year: int, plan: YearPlan, target_total: Decimal) -> list[Receipt]:
        """One receipt per contributing State; those paid by the cutoff are the plan's States."""
        states = self.contributors(year)
        amounts = self.amounts(year, states, target_total)
        roles = self._roles(year, states)
        batch_day = self._batch_month(year)
        out = {s: self._receipt(year, s, roles.get(s, ""), amounts[s], batch_day) for s in states}
        plan.states = [s for s in states if out[s].booked <= self.cutoff]
        return [out[s] for s in states]

    def _roles(self, year: int, states: list[str]) -> dict[str, str]:
        """The States whose receipt is out of the ordinary this year, and how:
        paid in advance, late, reversed and re-sent, in a batch, with
        charges deducted, or naming no State (ambiguous)."""
        free = [s for s in states if s not in SCHEDULES]
        self.rng.shuffle(free)
        special: dict[str, str] = {}
        if year > self.first:
            special[free.pop()] = "advance"
        if year < self.today.year:
            special[free.pop()] = "late"
        special[next(s for s in free if self._pays_fx(s))] = "reversed"
        batch = "notified-batch" if year == self.first + 1 else "batch"
        for role, fx in ((batch, False), ("charges", True)):  # three in CHF in a batch, three abroad with charges
            free = [s for s in free if s not in special]
            for s in [s for s in free if self._pays_fx(s) == fx][:3]:
                special[s] = role
        free = [s for s in free if s not in special]
        for n, s in enumerate(free[: self.rng.randint(2, 4)]):
            special[s] = "ambiguous-first" if n == 0 else "ambiguous"
        return special

    def _pays_fx(self, state: str) -> bool:
        return self.payers[state].currency != "CHF"

    def _booked(self, year: int, role: str, fx: bool, batch_day: datetime.date) -> datetime.date:
        """The day the bank books a receipt of ``role``."""
        if role == "advance":
            return self.day_in(year - 1, 12, 8, 18)
        if role == "late":
            # In January while the year is still open (it counts for it), or in
            # April after the close (a late receipt, booked in the next year).
            return self.day_in(year + 1, 1 if year % 2 else 4, 8, 22)
        if role in ("batch", "notified-batch"):
            return batch_day
        if role == "reversed":
            return self.day_in(year, self._camt_month(year, range(2, 12)), 3, 8)
        return self.day_in(year, self._month(year, fx))

    def _receipt(self, year: int, state: str, role: str, amount: tuple[Decimal, Decimal, str],
                 batch_day: datetime.date) -> Receipt:
        """The State's receipt of the year: in CHF, or instructed in its currency at the day's rate."""
        rng = self.rng
        payer = self.payers[state]
        gross, instructed, currency = amount
        fx = currency != "CHF"
        booked = self._booked(year, role, fx, batch_day)
        r_fx = None
        if fx:
            # A bank's rate has six decimals. This draw keeps Decimal's default
            # (half-even) rounding: it is not an amount, and the demo books and
            # their golden reports are generated from exactly these rates.
            r_fx = (rate(currency, year) * uniform(rng, "0.996", "1.004")).quantize(Decimal("0.000001"))
            gross = cents(instructed * r_fx)
        text = remittance(payer.language, year, rng)
        receipt = Receipt(state, year, booked, gross, payer.party, text, (instructed, currency) if fx else None, r_fx,
                          group=role)
        if role == "charges":
            receipt.charges = cents(rng.randrange(15, 46))
        if role.startswith("ambiguous"):
            self._name_no_state(receipt, payer, role)
        return receipt

    def _name_no_state(self, receipt: Receipt, payer: Payer, role: str) -> None:
        """An ambiguous receipt: a generic payer name (and at times a remittance) that names no State."""
        generic = ("TRESOR PUBLIC" if payer.language == "fr" else "MINISTERIO DE RELACIONES EXTERIORES"
                   if payer.language == "es" else "PERMANENT MISSION" if payer.style == "mission"
                   else "MINISTRY OF FOREIGN AFFAIRS")
        party = receipt.party
        receipt.party = Party(generic, party.account, party.country, party.address)
        receipt.remember = role == "ambiguous-first"
        if role == "ambiguous" and chance(self.rng, 50):
            receipt.remittance = {"en": "VOLUNTARY CONTRIBUTION ISU", "fr": "CONTRIBUTION VOLONTAIRE UAM",
                                  "es": "CONTRIBUCION VOLUNTARIA DAA"}[payer.language]

    def _month(self, year: int, camt_only: bool) -> int:
        for _ in range(50):
            month = self.rng.choices(range(1, 13), MONTH_WEIGHTS)[0]
            if not camt_only or month_format(year, month)[0] == "camt":
                return month
        return 1

    def _camt_month(self, year: int, months) -> int:
        months = [m for m in months if month_format(year, m)[0] == "camt"]
        if year == self.today.year:
            months = [m for m in months if m < self.today.month] or months
        return self.rng.choice(months)

    def _batch_month(self, year: int) -> datetime.date:
        """A CSV month in even years (a collective credit in the export), else camt."""
        months = range(2, 12) if year < self.today.year else range(2, max(3, self.today.month))
        csv = [m for m in months if month_format(year, m)[0] == "csv"]
        if year % 2 == 0 and csv and year != self.first + 1:
            return self.day_in(year, csv[0], 8, 20)
        return self.day_in(year, self._camt_month(year, months), 8, 20)

    # -- decisions
    def decisions(self, year: int, plan: YearPlan) -> Decimal:
        total = self.budget_total(year)
        lines = self.lines(total)
        endorsed = _weekday(datetime.date(year - 1, 12, 10))
        plan.budget = (lines, f"ISU {year} work plan and budget endorsed by the Coordinating Committee ({endorsed})", endorsed)
        name, ends = meeting(year)
        revised = dict(lines)
        if year == self.deficit_year:
            revised["Meetings"] = rounded(lines["Meetings"] * Decimal("1.30"), 1)
            revised["Travel"] = rounded(lines["Travel"] * Decimal("1.15"), 1)
        else:
            for line in ("Travel", "Meetings"):
                revised[line] = rounded(lines[line] * uniform(self.rng, "0.90", "1.04"), 1)
        plan.revision = (revised, f"approved by the {name}", ends)
        return sum(revised.values(), ZERO)

    def pledges(self, year: int, plan: YearPlan, receipts: list[Receipt]) -> None:
        """The year's pledges known by today: the multi-year schedules (in
        their first year), most receipts announced beforehand, and a few
        unpaid - one per working language where a State of that language pays
        nothing that year, so that reminders show in English, French and Spanish."""
        for start in (self.first, self.first + 5):
            if year == start:
                self._schedules(start, plan)
        for r in receipts:
            if r.state in SCHEDULES or r.group in ("advance", "late") or not chance(self.rng, 65):
                continue
            plan.pledges.append(self._announced(year, r))
        for s in self._unpaid(receipts):
            day = _weekday(datetime.date(year, 3, 20))
            plan.pledges.append(PledgeSpec(s, year, Decimal(10000), "CHF", datetime.date(year, 9, 30),
                                           conventions.DEFAULT_WORK_PLAN, day, None, None, "Pledged at the intersessional meetings"))
        plan.pledges = [p for p in plan.pledges if p.date <= self.today]

    def _unpaid(self, receipts: list[Receipt]) -> list[str]:
        """The donors that pledge and pay nothing this year: the first of each
        working language among those who sent nothing, else the first two."""
        unpaid = sorted(s for s in DONORS if s in self.payers and s not in {r.state for r in receipts})
        first = {}
        for s in unpaid:
            first.setdefault(self.payers[s].language, s)
        return [first[lang] for lang in ("en", "fr", "es") if lang in first] or unpaid[:2]

    def _schedules(self, start: int, plan: YearPlan) -> None:
        """The five-year schedules of the work plan starting in ``start``: one pledge per State and year."""
        day = _weekday(datetime.date(start, 2, 14))
        for s, (amount, currency) in sorted(SCHEDULES.items()):
            if s not in self.payers:
                continue
            for y in range(start, start + 5):
                plan.pledges.append(PledgeSpec(
                    s, y, amount, currency, datetime.date(y, 6, 30), conventions.DEFAULT_WORK_PLAN, day,
                    f"S-{s}-{start}-{start + 4}", None if currency == "CHF" else rate(currency, start),
                    f"Multi-year pledge for the {start}-{start + 4} work plan"))

    def _announced(self, year: int, r: Receipt) -> PledgeSpec:
        """The pledge announced before receipt ``r`` (at times rounded up, more than was paid)."""
        rng = self.rng
        amount, currency = r.instructed or (r.gross, "CHF")
        if chance(rng, 15):
            amount = _round_nicely(amount * Decimal("1.25"), currency)
        day = _weekday(datetime.date(year, rng.choice((2, 3)), rng.randint(1, 27)))
        if day >= r.booked:
            day = _weekday(datetime.date(year, 1, 12))
        note = rng.choice((f"Note verbale {rng.randint(100, 999)}/{year}", f"Announced at the Coordinating Committee, {day:%B %Y}"))
        return PledgeSpec(r.state, year, amount, currency, datetime.date(year, r.booked.month, 28),
                          conventions.DEFAULT_WORK_PLAN, day, None, None if currency == "CHF" else rate(currency, year), note)

    # -- the host
    def expenditure(self, year: int, plan: YearPlan) -> Decimal:
        """Monthly costs per line (rows of the GICHD workbook); returns the year's expected spend."""
        rng = self.rng
        final = plan.revision[0]
        spend = Decimal("1.03") if year == self.deficit_year else uniform(rng, "0.93", "0.98")
        meeting_month = meeting(year)[1].month
        labels = {"Staff": "Staff costs", "Travel": "Travel", "Meetings": "Meetings and conference services",
                  "Communications": "Communications and website", "GICHDServices": "GICHD administrative services",
                  "Other": "Office and other costs"}
        n = 0
        for month in range(1, 13):
            end = _last_business_day(year, month)
            for line, budget in final.items():
                if line == "Meetings":
                    share = {6: Decimal("0.35"), meeting_month: Decimal("0.65")}.get(month)
                elif line in ("Staff", "GICHDServices"):
                    share = Decimal(1) / 12
                else:
                    share = Decimal(1) / 4 if month % 3 == 0 else None
                if share is None:
                    continue
                noise = {"Staff": ("0.98", "1.02"), "GICHDServices": ("0.99", "1.01"), "Travel": ("0.6", "1.4")}.get(line, ("0.8", "1.2"))
                amount = cents(budget * spend * share * uniform(rng, *noise))
                n += 1
                what = f"{labels[line]} {end:%B %Y}" if share == Decimal(1) / 12 else f"{labels[line]} {end:%B %Y} (quarter {(month - 1) // 3 + 1})"
                if line == "Meetings":
                    what = f"{labels[line]}: {'intersessional meetings' if month == 6 else meeting(year)[0]} {year}"
                plan.expenditure.append({"date": end, "line": line, "description": what,
                                         "amount": amount, "reference": f"EXP-{year}-{n:04d}"})
            if month == 9:
                n += 1
                plan.expenditure.append({"date": end, "line": "Travel", "description": f"Refund of an unused travel advance {end:%B %Y}",
                                         "amount": -Decimal("1250.00"), "reference": f"EXP-{year}-{n:04d}"})
        return cents(sum((r["amount"] for r in plan.expenditure), ZERO))


def build_scenario(seed: int, first_year: int, today: datetime.date, opening: Decimal = Decimal("612408.15")) -> Scenario:
    """The whole story from ``first_year`` to ``today`` (see the module doc)."""
    story = _Story(seed, first_year, today)
    policy = ("months", Decimal(3), ("14th Meeting of the States Parties (2015): a financial security buffer of three "
              "months of expenditure"), datetime.date(2016, 1, 1))
    years: dict[int, YearPlan] = {}
    receipts: list[Receipt] = []
    spend: dict[int, Decimal] = {}
    for year in range(first_year, today.year + 1):
        plan = years[year] = YearPlan(year)
        final_total = story.decisions(year, plan)
        factor = Decimal("0.93") if year == story.deficit_year else uniform(story.rng, "1.02", "1.06")
        mine = story.receipts(year, plan, final_total * factor)
        story.pledges(year, plan, mine)
        receipts += mine
        spend[year] = story.expenditure(year, plan)
        plan.expenditure = [r for r in plan.expenditure if r["date"] <= story.cutoff]
        if year == first_year:
            decided = _weekday(datetime.date(year, 3, 26))
            plan.buffer_moves.append((Decimal("150000.00"), f"Coordinating Committee, {decided}: initial allocation to the financial security buffer", decided))
        if year == first_year + 5:
            decided = _weekday(datetime.date(year, 6, 26))
            plan.buffer_moves.append((Decimal("40000.00"), f"Coordinating Committee, {decided}: rebuilding the buffer after the Review Conference", decided))
    truth: dict[tuple[str, str], tuple[str, int, bool]] = {}
    _statements(story, years, receipts, spend, opening, truth)
    languages = {s: p.language for s, p in story.payers.items() if p.language != "en"}
    return Scenario(seed, today, policy, years, truth, languages)


def _payment(r: Receipt, ref: str | None = None) -> Payment:
    charges = r.charges
    return Payment(r.gross - (charges or ZERO), r.party, r.remittance, r.instructed, r.rate, charges, ref)


def _statements(story: _Story, years: dict[int, YearPlan], receipts: list[Receipt], spend: dict[int, Decimal],
                opening: Decimal, truth: dict) -> None:
    """Every monthly statement from January of the first year to the cutoff."""
    rng = story.rng
    by_month: dict[tuple[int, int], list] = {}

    def add(day: datetime.date, order: int, kind: str, payload) -> None:
        if day <= story.cutoff:
            by_month.setdefault((day.year, day.month), []).append((day, order, kind, payload))

    groups: dict[tuple[datetime.date, str], list[Receipt]] = {}
    for r in receipts:
        if r.group in ("batch", "notified-batch"):
            groups.setdefault((r.booked, r.group), []).append(r)
        elif r.group == "reversed":
            add(r.booked, 1, "receipt", r)
            add(_weekday(r.booked + datetime.timedelta(days=5)), 2, "reversal", r)
            again = Receipt(**{**r.__dict__, "booked": _weekday(r.booked + datetime.timedelta(days=14)), "group": "re-sent"})
            add(again.booked, 1, "receipt", again)
        else:
            add(r.booked, 1, "receipt", r)
    for (day, group), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        add(day, 1, group, members)
    for year, amount in spend.items():
        monthly = rounded(amount / 12, 1)
        for month in range(1, 13):
            add(_weekday(datetime.date(year, month, 24)), 3, "gichd", monthly)
            if month % 3 == 0:
                add(_last_business_day(year, month), 4, "fee", Decimal(rng.randrange(12000, 19000)) / 100)
        interest = (-Decimal(rng.randrange(30000, 90000)) / 100 if year < 2022 else ZERO if year == 2022
                    else Decimal(rng.randrange(80000, 250000)) / 100)
        if interest:
            add(_last_business_day(year, 12), 5, "interest", interest)

    balance = opening
    refs: dict[int, str] = {}
    seq: dict[int, int] = {}
    year, month = story.first, 1
    while datetime.date(year, month, 1) <= story.cutoff:
        statement = MonthStatement(year, month, month, balance)
        kind, language = month_format(year, month)
        for day, _, what, payload in sorted(by_month.get((year, month), []), key=lambda e: (e[0], e[1])):
            seq[year] = seq.get(year, 0) + 1
            ref = f"UBS{day:%Y%m%d}{seq[year]:04d}"
            entry = _entry(story, day, ref, what, payload, refs, kind, language)
            statement.entries.append(entry)
            if what == "notified-batch":
                years[year].notifications.append((statement, entry))
            members = payload if isinstance(payload, list) else [payload] if what == "receipt" else []
            for r in members:
                truth[(ref, money.text(r.gross))] = (r.state, r.wp_year, r.remember)
        years[year].statements.append(statement)
        balance = statement.closing
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _entry(story: _Story, day: datetime.date, ref: str, what: str, payload, refs: dict[int, str], kind: str,
           language: str) -> BankEntry:
    if what == "receipt":
        r = payload
        refs[id(r)] = ref
        code = CODE_DOMESTIC_RECEIPT if (r.party.account or "").startswith("CH") else CODE_RECEIPT
        return BankEntry(day, r.gross - (r.charges or ZERO), ref, code, payments=[_payment(r)])
    if what in ("batch", "notified-batch"):
        payments = [_payment(r, f"{ref}-{n}") for n, r in enumerate(payload, 1)]
        total = sum((p.amount for p in payments), ZERO)
        text = {"de": "SAMMELGUTSCHRIFT", "fr": "CREDIT COLLECTIF"}.get(language, "COLLECTIVE CREDIT")
        return BankEntry(day, total, ref, CODE_DOMESTIC_RECEIPT, f"{text} {len(payments)} PAYMENTS", payments,
                         batch=True, details_by_notification=what == "notified-batch")
    if what == "reversal":
        r = payload
        original = refs[id(r)]
        net = r.gross - (r.charges or ZERO)
        back = Payment(net, Party(r.party.name, r.party.account, r.party.country), r.remittance)
        return BankEntry(day, -net, ref, CODE_RECEIPT, f"REVERSAL OF {original}: BENEFICIARY DETAILS INCOMPLETE",
                         [back], reversal=True)
    if what == "gichd":
        text = f"ISU costs {day:%Y-%m}"
        return BankEntry(day, -payload, ref, CODE_TRANSFER, payments=[Payment(payload, story.gichd, text)])
    if what == "fee":
        quarter = (day.month - 1) // 3 + 1
        text = {"de": f"GEBUEHREN KONTOFUEHRUNG Q{quarter} {day.year}", "fr": f"FRAIS DE TENUE DE COMPTE T{quarter} {day.year}"}
        words = text.get(language if kind == "csv" else "", f"ACCOUNT MAINTENANCE FEES Q{quarter} {day.year}")
        return BankEntry(day, -payload, ref, CODE_FEE, words)
    text = f"CREDIT INTEREST {day.year}" if payload > 0 else f"NEGATIVE INTEREST {day.year}"
    return BankEntry(day, payload, ref, CODE_INTEREST, text)
