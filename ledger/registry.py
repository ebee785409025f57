"""The registry of States Parties and other contributors, and name matching.

The packaged ``ledger/data/contributors.csv`` lists every State Party of the
Anti-Personnel Mine Ban Convention (kind ``state_party``), the States not
party (kind ``other``: they may still fund the ISU) and a few non-State
contributors with ISO user-assigned ``X..`` codes. A ledger's own
``registry/contributors.csv`` adds rows and extends existing ones (aliases of
a ministry the staff met on a statement), so the matching improves without a
software release.

Names in many languages come from CLDR (through Babel) and pycountry, not from
the CSV; the CSV holds what those cannot know: demonyms, ministries,
treasuries, missions, old names. All of it is folded into one token index that
is built once (lazily) per registry, so matching a payer line costs a few
dictionary look-ups. The CLDR/pycountry part is package data,
``ledger/data/country_names.json``: reading Babel's locale data and spelling
every name in every variant takes longer than the rest of an import, and the
result only changes when those libraries do. ``python -m ledger.registry``
writes the file again; a test fails when it differs from what the libraries
give now.

Why the matching is conservative: a wrong attribution is far worse than a
review item. A name that belongs to several codes ("Congo", "Korea",
"Dominican") never resolves in :meth:`Registry.lookup`, and
:meth:`Registry.find_names` returns all its candidates with reduced scores.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from importlib import resources
from pathlib import Path

from ledger import conventions
from ledger.names import canonical, inverted, is_generic, normalise, term_kinds, tokens, variants, without_stop_words

__all__ = [
    "CSV_FIELDS",
    "Contributor",
    "NameMatch",
    "Registry",
    "RegistryError",
    "render_csv",
]

CSV_FIELDS = ("iso3", "iso2", "name", "kind", "accession", "aliases", "demonyms", "ministries", "language")
KINDS = ("state_party", "other")
# The working languages a State's letters are written in (``language``: empty is English).
LANGUAGES = ("en", "fr", "es")
DEFAULT_LANGUAGE = "en"
MULTI_SEP = "|"

# Locales whose CLDR territory names are indexed: the Convention's and the UN's
# languages plus those of the States that usually pay.
NAME_LOCALES = (
    "en", "fr", "es", "de", "it", "pt", "nl", "ar", "ru", "zh", "nb", "nn", "sv", "da",
    "fi", "pl", "tr", "lt", "lv", "et", "sk", "cs", "hu", "ro", "hr", "sl", "el", "ja",
    "ko", "id", "ms", "fil", "sw", "is", "bg", "sr",
)  # fmt: skip

# Scores: how specific a kind of evidence is (full official name > short name
# > demonym). Names that are also ordinary words or given names ("Chad",
# "Jordan") are weak whatever their source.
SCORE_OFFICIAL = Decimal("1.00")
SCORE_MINISTRY = Decimal("0.95")
SCORE_NAME = Decimal("0.90")
SCORE_ALIAS = Decimal("0.90")
SCORE_DEMONYM = Decimal("0.60")
SCORE_WEAK = Decimal("0.40")
_CENT = Decimal("0.01")

# Normalised single-word names that are also given names or ordinary words in
# the text banks carry ("CHAD SMITH", "MICHAEL JORDAN", "GEORGIA STATE",
# Croatian "mali", Spanish "gana"): still found, but only as weak evidence.
WEAK_NAMES = frozenset(
    {"chad", "jordan", "georgia", "jersey", "mali", "gana", "kina", "israel", "guernsey"}
)
# CLDR names that are common words in a language of bank text (Spanish "cada"
# = each, Croatian "samo" = only) and would only ever match by accident. They
# are not indexed at all; staff can still add any of them as an alias.
STOP_NAMES = frozenset({"cada", "pala", "toga", "siri", "samo", "gane", "sead", "moen"})

# A staff alias needs this many letters besides generic and contribution words.
MIN_ALIAS_LETTERS = 4

_MATCH_CACHE = 16384  # distinct payer/remittance token sequences remembered per registry

_SINGULAR = {"aliases": "alias", "demonyms": "demonym", "ministries": "ministry"}
_ISO3 = re.compile(r"^[A-Z]{3}$")
_ISO2 = re.compile(r"^[A-Z]{2}$")
_ACCESSION = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")


class RegistryError(ValueError):
    """A contributors file that cannot be used: ``FILE:LINE: problem``."""


@dataclass(frozen=True)
class Contributor:
    iso3: str  # ISO 3166-1 alpha-3, or a user-assigned X.. code for non-States
    iso2: str | None
    name: str  # English short name
    kind: str  # "state_party" | "other"
    aliases: tuple[str, ...] = ()  # staff-added: missions, treasuries, old names
    demonyms: tuple[str, ...] = ()
    ministries: tuple[str, ...] = ()
    accession: str | None = field(default=None, compare=False)  # "YYYY[-MM-DD]" when known
    language: str | None = field(default=None, compare=False)  # letters: one of LANGUAGES; None = English


@dataclass(frozen=True)
class NameMatch:
    iso3: str
    matched: str  # the registry text that matched
    source: str  # "name", "alias", "demonym", "ministry"
    score: Decimal  # 0..1, how specific


# --- The CSV ----------------------------------------------------------------


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(v.strip() for v in value.split(MULTI_SEP) if v.strip())


def parse_csv(text: str, source: str) -> list[tuple[int, Contributor]]:
    """Rows of a contributors CSV with their line numbers, validated.

    Raises :class:`RegistryError` naming ``source`` and the line.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    if "iso3" not in header:
        raise RegistryError(f"{source}:1: header must start with {','.join(CSV_FIELDS)}")
    unknown = [h for h in header if h not in CSV_FIELDS]
    if unknown:
        raise RegistryError(f"{source}:1: unknown column(s) {', '.join(unknown)}")
    rows: list[tuple[int, Contributor]] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        where = f"{source}:{line}"
        if None in raw:
            raise RegistryError(f"{where}: too many fields")
        if not any((v or "").strip() for v in raw.values()):
            continue  # blank line
        iso3 = (raw.get("iso3") or "").strip()
        if not _ISO3.match(iso3):
            raise RegistryError(f"{where}: bad iso3 {iso3!r}: must be 3 upper-case letters")
        if iso3 in seen:
            raise RegistryError(f"{where}: duplicate iso3 {iso3} (first on line {seen[iso3]})")
        seen[iso3] = line
        rows.append((line, _contributor(raw, iso3, where)))
    return rows


def _contributor(raw: dict[str, str | None], iso3: str, where: str) -> Contributor:
    """The contributor of one CSV row (``where``: ``FILE:LINE`` for errors)."""
    iso2 = (raw.get("iso2") or "").strip() or None
    if iso2 is not None and not _ISO2.match(iso2):
        raise RegistryError(f"{where}: bad iso2 {iso2!r}: must be 2 upper-case letters")
    kind = (raw.get("kind") or "").strip()
    if kind and kind not in KINDS:
        raise RegistryError(f"{where}: unknown kind {kind!r} (expected {' or '.join(KINDS)})")
    accession = (raw.get("accession") or "").strip() or None
    if accession and not _ACCESSION.match(accession):
        raise RegistryError(f"{where}: bad accession {accession!r}: expected YYYY or YYYY-MM-DD")
    language = (raw.get("language") or "").strip() or None
    if language and language not in LANGUAGES:
        raise RegistryError(f"{where}: unknown language {language!r} (expected {', '.join(LANGUAGES)})")
    return Contributor(
        iso3=iso3,
        iso2=iso2,
        name=(raw.get("name") or "").strip(),
        kind=kind,
        accession=accession,
        language=language,
        **_other_names(raw, where),
    )


def _other_names(raw: dict[str, str | None], where: str) -> dict[str, tuple[str, ...]]:
    """Aliases, demonyms and ministries of one row; each must name this contributor alone."""
    multi = {k: _split(raw.get(k)) for k in ("aliases", "demonyms", "ministries")}
    for key, values in multi.items():
        for value in values:
            if not normalise(value):
                raise RegistryError(f"{where}: {_SINGULAR[key]} {value!r} has no letters")
            if is_generic(value):
                raise RegistryError(f"{where}: {_SINGULAR[key]} {value!r} is generic: it names no single contributor")
    return multi


def render_csv(contributors) -> str:
    """The CSV text of ``contributors`` (the inverse of :func:`parse_csv`).

    The ledger writer uses this to write staff additions back; it writes no
    file itself.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for c in sorted(contributors, key=lambda c: c.iso3):
        writer.writerow(
            [
                c.iso3,
                c.iso2 or "",
                c.name,
                c.kind,
                c.accession or "",
                MULTI_SEP.join(c.aliases),
                MULTI_SEP.join(c.demonyms),
                MULTI_SEP.join(c.ministries),
                c.language or "",
            ]
        )
    return out.getvalue()


def _merge(base: Contributor, extra: Contributor) -> Contributor:
    """A staff row over a packaged one: scalars override, lists extend."""

    def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        return a + tuple(v for v in b if v not in a)

    return replace(
        base,
        iso2=extra.iso2 or base.iso2,
        name=extra.name or base.name,
        kind=extra.kind or base.kind,
        accession=extra.accession or base.accession,
        language=extra.language or base.language,
        aliases=union(base.aliases, extra.aliases),
        demonyms=union(base.demonyms, extra.demonyms),
        ministries=union(base.ministries, extra.ministries),
    )


def _complete(c: Contributor, source: str, line: int) -> Contributor:
    """Fill a new row's missing name from ISO and insist on name and kind."""
    name = c.name
    if not name and c.iso2:
        country = _country_names()["countries"].get(c.iso2) or {}
        name = country.get("common_name") or country.get("name", "")
    if not name:
        raise RegistryError(f"{source}:{line}: a new contributor needs a name")
    if not c.kind:
        raise RegistryError(f"{source}:{line}: a new contributor needs a kind")
    return replace(c, name=name)


@functools.cache
def _packaged_rows() -> tuple[Contributor, ...]:
    text = resources.files("ledger").joinpath("data/contributors.csv").read_text("utf-8")
    source = "ledger/data/contributors.csv"
    return tuple(_complete(c, source, line) for line, c in parse_csv(text, source))


# --- The name index ---------------------------------------------------------

# key (tuple of tokens) -> {iso3: (matched text, source, score)}
Index = dict[tuple[str, ...], dict[str, tuple[str, str, Decimal]]]


def _add(index: Index, text: str, iso3: str, source: str, score: Decimal) -> None:
    for form in variants(text):
        key = tuple(form.split())
        if len(key) > 1 and key[0] == "the":
            key = key[1:]
        if len(key) == 1 and source == "name" and key[0].isascii():
            if len(key[0]) <= 3 or key[0] in STOP_NAMES:
                continue  # "Çad", "Irã", "Man": codes and fragments, not names
        weak = len(key) == 1 and key[0] in WEAK_NAMES and source != "ministry"
        value = (text, source, min(score, SCORE_WEAK) if weak else score)
        _keep_best(index, key, iso3, value)
        if source == "ministry" and len(without_stop_words(key)) > 1:
            # "MIN.BUITENLANDSE ZAKEN": banks drop the "van" of a ministry's name
            _keep_best(index, without_stop_words(key), iso3, value)


def _keep_best(index: Index, key: tuple[str, ...], iso3: str, value: tuple[str, str, Decimal]) -> None:
    best = index.setdefault(key, {}).get(iso3)
    if best is None or value[2] > best[2]:
        index[key][iso3] = value


def _canonical_index(index: Index) -> Index:
    """``index`` with its keys as :func:`ledger.names.canonical` spells them, as payer text is matched."""
    out: Index = {}
    for key, hits in index.items():
        for iso3, value in hits.items():
            _keep_best(out, canonical(key), iso3, value)
    return out


COUNTRY_NAMES = "data/country_names.json"


def build_country_names() -> dict:
    """What ``ledger/data/country_names.json`` holds, from pycountry and CLDR (Babel).

    ``countries``: each ISO 3166 country by alpha-2 code (alpha-3 code and
    English names); ``territories``: the CLDR names of the other two-letter
    codes ("EU", "XK"), in the order of ``NAME_LOCALES``; ``index``: the name
    index of every ISO country (:data:`Index`, keys joined by spaces, scores
    as text). Territories that are not contributors (American Samoa, Hong
    Kong) are in the index too: their names must mask the shorter names they
    contain ("AMERICAN SAMOA" is not Samoa) even though they are never reported.
    """
    import pycountry
    from babel import Locale, UnknownLocaleError

    locales = []
    for tag in NAME_LOCALES:
        try:
            locales.append(Locale.parse(tag))
        except (UnknownLocaleError, ValueError):
            continue
    index: Index = {}
    countries = {}
    for country in pycountry.countries:
        iso3, iso2 = country.alpha_3, country.alpha_2
        names = {"alpha_3": iso3, "name": country.name}
        official = getattr(country, "official_name", None)
        if official:
            _add(index, official, iso3, "name", SCORE_OFFICIAL)
            for part in inverted(official):
                _add(index, part, iso3, "name", SCORE_OFFICIAL)
        for attr in ("name", "common_name"):
            name = getattr(country, attr, None)
            if name:
                names[attr] = name
                _add(index, name, iso3, "name", SCORE_NAME)
                for part in inverted(name):
                    _add(index, part, iso3, "name", SCORE_NAME)
        for locale in locales:
            name = locale.territories.get(iso2)
            if name:
                _add(index, name, iso3, "name", SCORE_NAME)
        countries[iso2] = names
    territories: dict[str, list[str]] = {}
    for locale in locales:
        for code, name in locale.territories.items():
            if _ISO2.match(code) and code not in countries and name not in territories.setdefault(code, []):
                territories[code].append(name)
    return {
        "countries": countries,
        "territories": territories,
        "index": {
            " ".join(key): {iso3: [text, source, str(score)] for iso3, (text, source, score) in hits.items()}
            for key, hits in index.items()
        },
    }


def render_country_names(names: dict) -> str:
    """The text of ``ledger/data/country_names.json``: sorted, one line per entry, so a diff is readable."""

    def line(key: str, value) -> str:
        return json.dumps(key) + ": " + json.dumps(value, ensure_ascii=False, sort_keys=True)

    sections = [
        json.dumps(name) + ": {\n" + ",\n".join(line(k, names[name][k]) for k in sorted(names[name])) + "\n}"
        for name in sorted(names)
    ]
    return "{\n" + ",\n".join(sections) + "\n}\n"


@functools.cache
def _country_names() -> dict:
    """``ledger/data/country_names.json``, read once per process."""
    return json.loads(resources.files("ledger").joinpath(COUNTRY_NAMES).read_text("utf-8"))


@functools.cache
def _iso_index() -> Index:
    """The name index of every ISO 3166 country (see :func:`build_country_names`)."""
    scores: dict[str, Decimal] = {}
    return {
        tuple(key.split(" ")): {
            iso3: (text, source, scores.setdefault(score, Decimal(score)))
            for iso3, (text, source, score) in hits.items()
        }
        for key, hits in _country_names()["index"].items()
    }


def _build_index(contributors: dict[str, Contributor]) -> Index:
    index: Index = {k: dict(v) for k, v in _iso_index().items()}
    for c in contributors.values():
        _add(index, c.name, c.iso3, "name", SCORE_NAME)
        for name in _country_names()["territories"].get(c.iso2 or "", ()):  # CLDR also names "EU", "XK"
            _add(index, name, c.iso3, "name", SCORE_NAME)
        for alias in c.aliases:
            _add(index, alias, c.iso3, "alias", SCORE_ALIAS)
        for ministry in c.ministries:
            _add(index, ministry, c.iso3, "ministry", SCORE_MINISTRY)
        for demonym in c.demonyms:
            _add(index, demonym, c.iso3, "demonym", SCORE_DEMONYM)
    return _canonical_index(index)


# --- The registry -----------------------------------------------------------


class Registry:
    """All contributors, by ISO alpha-3 code, with name matching."""

    def __init__(self, contributors: dict[str, Contributor]):
        self._by_code = dict(contributors)
        self._by_iso2 = {c.iso2: c.iso3 for c in self._by_code.values() if c.iso2}
        self._index: Index | None = None
        self._max_len = 0
        # first token -> lengths (longest first) of the index keys starting with it
        self._firsts: dict[str, tuple[int, ...]] = {}
        # token tuple -> matches; bank files repeat the same payer lines all year
        self._matches = functools.lru_cache(maxsize=_MATCH_CACHE)(self._match_tokens)

    @classmethod
    def load(cls, ledger_dir: Path | None = None) -> Registry:
        """The packaged registry, extended by ``<ledger_dir>/registry/contributors.csv``.

        Without a ledger file (or ``ledger_dir``) the packaged registry is
        returned, one shared instance so its index is built once per process.
        """
        path = Path(ledger_dir) / conventions.REGISTRY_FILE if ledger_dir else None
        if path is None or not path.is_file():
            return _packaged_registry()
        stat = path.stat()
        return _ledger_registry(str(path.resolve()), stat.st_mtime_ns, stat.st_size)

    @classmethod
    def from_csv_text(cls, text: str, source: str = conventions.REGISTRY_FILE) -> Registry:
        """The packaged registry extended by a contributors CSV given as text.

        Lets the ledger writer validate staff edits before writing the file.
        """
        contributors = {c.iso3: c for c in _packaged_rows()}
        for line, extra in parse_csv(text, source):
            base = contributors.get(extra.iso3)
            contributors[extra.iso3] = (
                _merge(base, extra) if base else _complete(extra, source, line)
            )
        return cls(contributors)

    # -- codes

    def codes(self) -> set[str]:
        return set(self._by_code)

    def contributors(self) -> list[Contributor]:
        return [self._by_code[k] for k in sorted(self._by_code)]

    def state_parties(self) -> set[str]:
        return {k for k, c in self._by_code.items() if c.kind == "state_party"}

    def get(self, iso3: str) -> Contributor | None:
        return self._by_code.get(iso3)

    def __contains__(self, iso3: object) -> bool:
        return iso3 in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def from_iso2(self, iso2: str) -> str | None:
        """"DE" -> "DEU": any ISO 3166 country (pycountry's, in the package data), or a registry row."""
        if not iso2:
            return None
        code = iso2.strip().upper()
        if code in self._by_iso2:
            return self._by_iso2[code]
        country = _country_names()["countries"].get(code)
        return country["alpha_3"] if country else None

    def is_state_party(self, iso3: str) -> bool:
        c = self._by_code.get(iso3)
        return c is not None and c.kind == "state_party"

    def display_name(self, iso3: str, locale: str = "en") -> str:
        """The CLDR name in ``locale`` (Babel), else the registry's English name."""
        c = self._by_code.get(iso3)
        if c is None:
            country = next((n for n in _country_names()["countries"].values() if n["alpha_3"] == iso3), None)
            return country["name"] if country else iso3
        if c.iso2 and locale != "en":
            from babel import Locale, UnknownLocaleError  # only reports in other languages need it

            try:
                name = Locale.parse(locale).territories.get(c.iso2)
            except (UnknownLocaleError, ValueError):
                name = None
            if name:
                return name
        return c.name

    # -- names

    def _names(self) -> Index:
        if self._index is None:
            index = _build_index(self._by_code)
            self._max_len = max(len(k) for k in index)
            firsts: dict[str, set[int]] = {}
            for key in index:
                firsts.setdefault(key[0], set()).add(len(key))
            self._firsts = {word: tuple(sorted(sizes, reverse=True)) for word, sizes in firsts.items()}
            self._index = index
        return self._index

    def find_names(self, text: str, *, remember: bool = True) -> list[NameMatch]:
        """Every contributor named in free text, best first, one match per code.

        Whole tokens only; the longest name wins a stretch of text and the
        names inside it are not reported ("Guinea-Bissau" is not also Guinea).
        A name belonging to several codes yields all of them, each with its
        score divided among them, so the caller sees the conflict.

        Results are remembered (payer lines recur all year); ``remember=False``
        for text that will not come again (a remittance with its references).
        """
        self._names()
        words = canonical(tokens(text or ""))
        if self._firsts.keys().isdisjoint(words):
            return []  # no word starts a name (most remittance texts): nothing to match
        return list(self._matches(words) if remember else self._match_tokens(words))

    def clear_match_cache(self) -> None:
        """Forget the cached :meth:`find_names` results (benchmarks of the cold path)."""
        self._matches.cache_clear()

    def _spans(self, words: tuple[str, ...]) -> list[tuple[int, int, dict[str, tuple[str, str, Decimal]]]]:
        """The names in ``words`` as (size, start, index entry), the longest
        name taking a stretch of text (the names inside it are not reported).

        Only the name lengths that exist for a word are tried at that word
        (most words start no name at all), longest first.
        """
        index = self._names()
        firsts = self._firsts
        count = len(words)
        spans = []
        for start in range(count):
            sizes = firsts.get(words[start])
            if sizes is None:
                continue
            for size in sizes:
                if size > count - start:
                    continue
                hit = index.get(words[start : start + size])
                if hit:
                    spans.append((size, start, hit))
        spans.sort(key=lambda s: (-s[0], s[1]))
        taken = [False] * len(words)
        chosen = []
        for size, start, hit in spans:
            if any(taken[start : start + size]):
                continue
            for i in range(start, start + size):
                taken[i] = True
            chosen.append((size, start, hit))
        return chosen

    def _match_tokens(self, words: tuple[str, ...]) -> tuple[NameMatch, ...]:
        """:meth:`find_names` on normalised tokens (cached per token tuple)."""
        best: dict[str, NameMatch] = {}
        for _, _, hit in self._spans(words):
            share = len(hit)
            for iso3, (matched, source, score) in hit.items():
                if iso3 not in self._by_code:
                    continue
                if share > 1:
                    score = (score / share).quantize(_CENT)
                match = NameMatch(iso3, matched, source, score)
                if iso3 not in best or score > best[iso3].score:
                    best[iso3] = match
        return tuple(sorted(best.values(), key=lambda m: (-m.score, m.iso3)))

    def lookup(self, name: str) -> str | None:
        """The code whose name, alias, demonym or ministry is exactly ``name``.

        None when nothing matches, when the name belongs to several codes, or
        when it names a territory that is not a contributor.
        """
        key = canonical(tokens(name or ""))
        if len(key) > 1 and key[0] == "the":
            key = key[1:]
        hit = self._names().get(key)
        if not hit or len(hit) != 1:
            return None
        (iso3,) = hit
        return iso3 if iso3 in self._by_code else None

    def name_index(self) -> Index:
        """The name index (normalised words -> {code: (name, source, score)}), built once; read-only.

        For searches over every name (``ledger.state_search``); matching uses :meth:`find_names`.
        """
        return self._names()

    # -- staff aliases

    def alias_refusal(self, iso3: str, alias: str) -> str | None:
        """Why staff may not add ``alias`` to contributor ``iso3``; None if they may.

        An alias identifies a payer at 0.90 wherever its words appear in bank
        text, so it must name that contributor and nothing else. One reason
        is given, the first of:

        - ``iso3`` is not a contributor;
        - control characters, or no letters;
        - already an alias of ``iso3``;
        - it names another contributor: a name, alias, demonym or ministry
          the registry knows, or an ISO alpha-3 code. A name ``iso3`` shares
          with others ("CONGO" for COG and COD) may appear: the alias makes
          it specific;
        - only generic words (``ledger.names.GENERIC_TERMS``: "GENEVA", "UN",
          "REPUBLIC OF");
        - only those and the contribution vocabulary that identification
          reads in remittance text ("ISU", "CONTRIBUTION 2026");
        - fewer than :data:`MIN_ALIAS_LETTERS` letters besides those words,
          with no exception for ISO codes, not even the contributor's own:
          codes are ordinary words in bank text ("AND", "CAN", "PER").

        The packaged registry's abbreviations ("UK", "DRC") are curated with
        the software and not held to these rules.
        """
        alias = " ".join(alias.split())
        if iso3 not in self._by_code:
            return f"{iso3 or '(empty)'}: not a contributor in the registry"
        if not alias.isprintable():
            return f"alias {alias!r} holds control characters"
        if not any(ch.isalpha() for ch in alias):
            return f"alias {alias!r} has no letters"
        if alias in self._by_code[iso3].aliases:
            return f"alias {alias!r} is already an alias of {iso3}"
        terms = term_kinds(alias)
        words = [term for term, kind in terms if kind == "word"]
        other = self._other_contributor(iso3, canonical(tokens(alias)), words)
        if other:
            return f"alias {alias!r} names {other} ({self._by_code[other].name}): an alias may name only its own contributor"
        kinds = {kind for _, kind in terms}
        if kinds <= {"generic", "stop"} and "generic" in kinds:
            return f"alias {alias!r} is generic: it names no single contributor"
        if kinds <= {"generic", "stop", "contribution", "number"} and kinds & {"contribution", "number"}:
            return f"alias {alias!r} is contribution wording (as in remittance text), not a name"
        if sum(ch.isalpha() for word in words for ch in word) < MIN_ALIAS_LETTERS:
            return f"alias {alias!r} is too short: it needs {MIN_ALIAS_LETTERS} letters besides generic and contribution words"
        return None

    def _other_contributor(self, iso3: str, alias_tokens: tuple[str, ...], words: list[str]) -> str | None:
        """A contributor other than ``iso3`` named in ``alias_tokens`` by a
        name the registry knows, or among ``words`` by its alpha-3 code."""
        for _, _, hit in self._spans(alias_tokens):
            named = sorted(code for code in hit if code in self._by_code)
            if named and iso3 not in named:
                return named[0]
        codes = [word.upper() for word in words if word.upper() in self._by_code]
        return next((code for code in codes if code != iso3), None)

    # -- writing back

    def render_csv(self, codes: set[str] | None = None) -> str:
        """CSV text of the registry (or of ``codes``) for the ledger writer."""
        chosen = self._by_code if codes is None else {k: self._by_code[k] for k in codes}
        return render_csv(chosen.values())


@functools.cache
def _packaged_registry() -> Registry:
    return Registry({c.iso3: c for c in _packaged_rows()})


@functools.lru_cache(maxsize=8)
def _ledger_registry(path: str, mtime_ns: int, size: int) -> Registry:
    """One registry per version of a ledger's file (keyed by mtime and size)."""
    text = Path(path).read_text(encoding="utf-8-sig")
    return Registry.from_csv_text(text, conventions.REGISTRY_FILE)


if __name__ == "__main__":  # python -m ledger.registry: write ledger/data/country_names.json again
    target = Path(__file__).parent / COUNTRY_NAMES
    target.write_text(render_country_names(build_country_names()), encoding="utf-8")
    print(f"wrote {target}")
