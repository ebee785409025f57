"""Text normalisation for matching payer names against the registry.

Bank text arrives upper case, often stripped to ASCII ("AUSWAERTIGES AMT",
"REPUBLIQUE DU SENEGAL"), while the registry's names come from CLDR with
accents, apostrophes and ampersands ("Côte d’Ivoire", "Bosnia & Herzegovina").
Both sides go through :func:`normalise` so that they meet on plain lower-case
word tokens; registry names are indexed under every :func:`variants` spelling
(German umlauts both as ``a`` and ``ae``, apostrophes as a word break and
glued) so the payer text itself needs only one normal form.

Matching is on whole tokens only, so "Oman" can never be found inside
"ROMANIA" nor "Niger" inside "NIGERIA".
"""

from __future__ import annotations

import re
import unicodedata

# Letters that Unicode does not decompose into base letter + combining mark.
_FOLD = str.maketrans(
    {
        "ß": "ss",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ħ": "h",
        "ŀ": "l",
        "ŧ": "t",
    }
)
# The German transliteration of umlauts, used by banks that only send ASCII.
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_NON_WORD = re.compile(r"[\W_]+")
_PARENS = re.compile(r"\s*\(([^)]*)\)\s*")

# Phrases that name an institution every State has. They must never identify a
# contributor, so the registry refuses them as aliases (normalised forms).
GENERIC_PHRASES = frozenset(
    {
        "ministry of foreign affairs",
        "ministry of foreign affairs and trade",
        "ministry for foreign affairs",
        "ministry of external affairs",
        "ministry of finance",
        "department of foreign affairs",
        "department of foreign affairs and trade",
        "foreign office",
        "foreign ministry",
        "permanent mission",
        "embassy",
        "treasury",
        "state treasury",
        "national treasury",
        "central bank",
        "banque centrale",
        "tresor public",
        "tresorerie generale",
        "ministere des affaires etrangeres",
        "ministere des finances",
        "ministerio de relaciones exteriores",
        "ministerio de asuntos exteriores",
        "ministerio de hacienda",
        "ministerio de finanzas",
        "secretaria de relaciones exteriores",
        "cancilleria",
        "kementerian luar negeri",
        "ministerium fur auswartige angelegenheiten",
        "aussenministerium",
        "banco central",
        "mission permanente",
        "mision permanente",
        "republic",
        "republique",
        "republica",
        "government",
        "gouvernement",
        "gobierno",
        # Acronyms several States' foreign ministries share: "MOFA" (Japan,
        # Korea, Ghana...), "DFAT" (Australia; Ireland until 2020), "MFAT"
        # (New Zealand; Hungary in English), "DFA" (Ireland, the Philippines),
        # "MAE" and "MRE" (most francophone and lusophone States).
        "mofa",
        "mfa",
        "dfat",
        "mfat",
        "dfa",
        "mae",
        "mre",
        "minaffet",
        "ministerio das relacoes exteriores",
        "ministerio dos negocios estrangeiros",
    }
)


# Words (normalised, one to three tokens) that say nothing about which State
# pays, in the languages of bank text. A staff alias made of these alone is
# refused (``ledger.registry.Registry.alias_refusal``):
# - GENERIC_TERMS: institutions and forms every State has, the host city and
#   the United Nations (every Permanent Mission banks in Geneva);
# - CONTRIBUTION_TERMS: the contribution vocabulary that identification reads
#   in remittance text (``importers.remittance``: work plans, year prefixes);
# - STOP_WORDS: articles and prepositions.
GENERIC_TERMS = frozenset(
    {
        "republic", "republique", "republica", "republik", "kingdom", "royaume", "reino", "konigreich",
        "state", "states", "etat", "etats", "estado", "estados", "staat", "government", "gouvernement",
        "gobierno", "governo", "regierung", "federal", "federale", "national", "nationale", "nacional",
        "ministry", "ministries", "ministere", "ministerio", "ministero", "ministerium", "minister",
        "ministre", "department", "departement", "departamento", "embassy", "ambassade", "embajada",
        "ambasciata", "botschaft", "consulate", "consulat", "consulado", "konsulat", "mission",
        "missions", "mision", "missione", "permanent", "permanente", "standige", "standigen",
        "delegation", "delegacion", "office", "bureau", "oficina", "amt", "foreign", "affairs",
        "affaires", "etrangeres", "exterior", "exteriores", "external", "relaciones", "asuntos",
        "auswartiges", "auswartige", "angelegenheiten", "aussenministerium", "cancilleria",
        "kementerian", "luar", "negeri", "international", "cooperation", "development", "finance",
        "finances", "finanzas", "hacienda", "treasury", "tresor", "tresorerie", "tesoro",
        "tesoreria", "public", "publique", "publico", "publica", "general", "generale", "central",
        "centrale", "bank", "banque", "banco", "account", "compte", "cuenta", "konto", "un", "uno",
        "onu", "united nations", "nations unies", "naciones unidas", "vereinte nationen", "geneva",
        "geneve", "genf", "ginevra", "ginebra", "nation", "nacion", "nazionale", "unknown", "anonymous",
        "anonyme", "anonimo", "unbekannt", "mofa", "mfa", "dfat", "mfat", "dfa", "mae", "mre",
    }
)  # fmt: skip
CONTRIBUTION_TERMS = frozenset(
    {
        "isu", "uam", "daa", "apmbc", "ap mbc", "cwp", "fy", "af", "implementation", "support", "unit",
        "anti", "personnel", "mine", "mines", "landmine", "landmines", "ban", "convention", "ottawa",
        "treaty", "contribution", "contributions", "contribucion", "contribuciones", "contributo",
        "beitrag", "aporte", "aportacion", "voluntary", "volontaire", "voluntaria", "voluntario",
        "freiwillige", "freiwilliger", "core", "budget", "work", "plan", "workplan", "travail",
        "trabajo", "arbeitsplan", "year", "annee", "ano", "jahr", "sponsorship", "sponsoring",
        "program", "programme", "programa", "programm", "parrainage", "patrocinio", "project",
        "projet", "proyecto", "projekt", "payment", "paiement", "pago", "zahlung", "donation", "don",
        "donacion", "spende", "donor", "donors", "gift", "grant", "funding", "fund", "funds", "fonds",
        "fondos", "transfer", "virement", "transferencia", "uberweisung", "ueberweisung",
        "remittance", "invoice", "facture", "factura", "rechnung", "reference", "ref",
    }
)  # fmt: skip
STOP_WORDS = frozenset(
    {
        "a", "an", "the", "of", "for", "to", "in", "on", "at", "and", "de", "du", "des", "d", "la",
        "le", "les", "l", "et", "pour", "en", "au", "aux", "del", "el", "los", "las", "y", "para",
        "al", "der", "die", "das", "den", "und", "fur", "von", "zu", "im", "van", "het", "voor", "di",
        "della", "degli", "dei", "delle", "da", "do", "dos", "e", "v",
    }
)  # fmt: skip
_TERM_TOKENS = 3  # the longest term above, in tokens

# Bank fields are 35 or 70 characters, so institution words arrive cut short
# and in several languages: "MIN. DES AFF. ETRANGERES", "MINISTERIO DE
# RR.EE.", "MIN.BUITENLANDSE ZAKEN", "UTRIKESDEP.". Each such word, its
# abbreviations and its spellings in the languages of bank text, are read as
# one word (:func:`canonical`), in the payer's text and in the registry's names
# alike, so an abbreviation never hides a ministry the registry knows. Only
# institution words are listed - never a word of a country's name - so two
# different names can never become one.
_SAME_WORD = {
    "ministry": (
        "ministere", "ministerio", "ministero", "ministerie", "ministerium", "min", "mins", "minist",
        "mnstry", "minstry", "minis",
    ),
    "affairs": ("affaires", "affari", "aff", "affs", "affrs"),
    "etrangeres": ("etr", "etrang", "etrangere"),
    "exteriores": ("ext", "exter", "exts", "exterieures"),
    "relaciones": ("rel", "rels", "relac"),
    "asuntos": ("asunt",),
    "department": ("departement", "departamento", "dept", "dep", "dpt", "depto", "departm"),
    "republic": ("republique", "republica", "republik", "repubblica", "rep", "repub", "repu"),
    "government": ("gouvernement", "gobierno", "governo", "govt", "gov", "gouv", "gvt", "govern"),
    "embassy": ("ambassade", "embajada", "ambasciata", "botschaft", "embaixada", "emb", "amb", "ambass", "embas"),
    "consulate": ("consulat", "consulado", "konsulat", "consolato", "cons"),
    "permanent": ("permanente", "perm", "pmt", "permt"),
    "mission": ("mision", "missione", "msn"),
    "federal": ("federale", "fed"),
    "saint": ("st", "ste", "sainte"),
    "confederation": ("conf", "confed"),
    "international": ("internationale", "intl", "internat", "int"),
    "cooperation": ("coop", "cooperacion", "cooperazione", "cooperacao"),
    "foreign": ("frgn", "fgn"),
    "democratic": ("dem", "democratique", "democratica"),
    "auswartiges": ("ausw", "auswaert", "auswart", "auswaertiges"),
    "utrikesdepartementet": ("utrikesdep", "utrikesdept"),
    "utenriksdepartementet": ("utenriksdep", "utenriksdept"),
    "udenrigsministeriet": ("udenrigsmin",),
    "buitenlandse": ("buitenl", "buitenlandsezaken"),
}  # fmt: skip
_CANONICAL = {alias: (word,) for word, aliases in _SAME_WORD.items() for alias in aliases}
# Two-word abbreviations: Spanish doubles the initials of a plural ("RR.EE." =
# relaciones exteriores), and banks glue them ("RREE").
_PAIRS = {
    ("rr", "ee"): ("relaciones", "exteriores"),
    ("aa", "ee"): ("asuntos", "exteriores"),
    ("ee", "uu"): ("estados", "unidos"),
    ("co", "operation"): ("cooperation",),  # "CO-OPERATION", never the company "CO"
}
_CANONICAL |= {"".join(pair): full for pair, full in _PAIRS.items()}
_ABBREVIATED = frozenset(_CANONICAL) | {pair[0] for pair in _PAIRS}


def canonical(words: tuple[str, ...]) -> tuple[str, ...]:
    """Normalised ``words`` with each institution word in one spelling.

    ("min", "des", "aff", "etrangeres") -> ("ministry", "des", "affairs", "etrangeres");
    ("rr", "ee") -> ("relaciones", "exteriores"). Words that are no
    abbreviation pass unchanged (most text: one set test).
    """
    if _ABBREVIATED.isdisjoint(words):
        return words
    out: list[str] = []
    i = 0
    while i < len(words):
        full = _PAIRS.get(words[i : i + 2]) if i + 1 < len(words) else None
        if full is not None:
            out += full
            i += 2
            continue
        out += _CANONICAL.get(words[i], (words[i],))
        i += 1
    return tuple(out)


def without_stop_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` less articles and prepositions: "ministerie van buitenlandse zaken" as banks cut it."""
    return tuple(w for w in words if w not in STOP_WORDS)


# Legal forms of companies and titles of persons. A payer so named is a
# company or a person, whatever country its name holds ("TOGO TRAVEL LTD",
# "PANAMA HATS SA", "CHILE FOODS GMBH", "MR JORDAN"): its name is no evidence
# of a State. Dotted initials ("S.A.", "B.V.") are read glued.
LEGAL_FORMS = frozenset(
    {
        "ltd", "limited", "llc", "inc", "incorporated", "corp", "corporation", "plc", "gmbh", "ag",
        "sa", "sarl", "sas", "srl", "spa", "bv", "nv", "bvba", "oy", "oyj", "ab", "aps", "as", "asa",
        "kg", "kgaa", "ohg", "co", "company", "cie", "sl", "sau", "ltda", "cia", "kk", "pty", "pte",
        "lp", "llp", "ug", "sro", "doo", "kft", "zrt", "bhd", "sdn", "pvt", "eurl", "snc", "sprl",
        "sagl", "scrl", "ev", "holding", "holdings", "travel", "tours", "hotel", "hotels", "restaurant",
        "foods", "trading", "import", "export",
    }
)  # fmt: skip
PERSON_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mme", "mlle", "herr", "frau", "sr", "sra", "srta", "dr", "prof", "sig", "sigra"}
)


def namesake_marker(text: str | None) -> str | None:
    """The word that makes a payer a company or a person ("LTD", "MR"), or None.

    "TOGO TRAVEL LTD" -> "ltd"; "S.A. PANAMA HATS" -> "sa"; "REPUBLIQUE DU TOGO" -> None.
    """
    words = canonical(tokens(text or ""))
    if not words:
        return None
    glued: list[str] = []
    run = ""
    for word in words:  # dotted initials: "s a r l" -> "sarl"
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            glued.append(run)
            run = ""
        glued.append(word)
    if run:
        glued.append(run)
    if glued[0] in PERSON_TITLES:
        return glued[0]
    return next((w for w in glued if w in LEGAL_FORMS), None)


def names_a_diplomatic_mission(text: str | None) -> bool:
    """Whether a payer name is an embassy, a consulate, a high commission or a permanent mission.

    A State's mission abroad banks in its host country: "EMBASSY OF JAPAN"
    paying from a German account. Only diplomatic words count - "MISSION"
    alone is also a church's or an NGO's name.
    """
    words = set(canonical(tokens(text or "")))
    if words & {"embassy", "consulate"}:
        return True
    return {"high", "commission"} <= words or {"permanent", "mission"} <= words or {"permanent", "delegation"} <= words


def term_kinds(text: str) -> list[tuple[str, str]]:
    """The normalised words of ``text`` as (term, kind), a term of several
    words ("united nations") taken before its parts; kind is "generic",
    "contribution", "stop", "number" or "word" (what may name a payer).

    "ISU Geneva 2026" -> [("isu", "contribution"), ("geneva", "generic"), ("2026", "number")].
    """
    words = canonical(tokens(text))
    out: list[tuple[str, str]] = []
    start = 0
    while start < len(words):
        for size in range(min(_TERM_TOKENS, len(words) - start), 0, -1):
            term = " ".join(words[start : start + size])
            kind = _term_kind(term) if size > 1 else _word_kind(term)
            if kind != "word" or size == 1:
                out.append((term, kind))
                start += size
                break
    return out


def _term_kind(term: str) -> str:
    if term in GENERIC_TERMS:
        return "generic"
    if term in CONTRIBUTION_TERMS:
        return "contribution"
    return "word"


def _word_kind(word: str) -> str:
    if word in STOP_WORDS:
        return "stop"
    if word.isdigit():
        return "number"
    return _term_kind(word)


class _CombiningMarks(dict):
    """``str.translate`` table deleting combining marks, filled as characters are met.

    Equivalent to ``"".join(c for c in text if not unicodedata.combining(c))``
    but the per-character work runs in C once a character has been seen.
    """

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.combining(chr(code)) else code
        self[code] = value
        return value


_DROP_MARKS = _CombiningMarks()
# ASCII: letters and digits kept, everything else (``_`` too) a space, which is
# what NFKD and ``_NON_WORD`` do to ASCII text; and with letters lower-cased,
# what NFC and casefold add.
_ASCII_BASIC = str.maketrans({chr(c): (chr(c) if chr(c).isalnum() else " ") for c in range(128)})
_ASCII_WORDS = str.maketrans({chr(c): (chr(c).lower() if chr(c).isalnum() else " ") for c in range(128)})
# The same as a bytes table: ``bytes.translate`` of the encoded text is the
# quickest way to apply it (``str.translate`` looks each character up in a dict).
_ASCII_WORDS_BYTES = bytes(
    ord(ch.lower()) if ch.isalnum() else ord(" ") for ch in map(chr, range(128))
) + bytes(range(128, 256))


def _basic(text: str) -> str:
    if text.isascii():
        return " ".join(text.translate(_ASCII_BASIC).split())
    text = unicodedata.normalize("NFKD", text).translate(_DROP_MARKS)
    return " ".join(_NON_WORD.sub(" ", text).split())


def normalise(text: str) -> str:
    """Lower-case, accent-free, punctuation-free text with single spaces.

    "Côte d’Ivoire" -> "cote d ivoire"; "AUSWÄRTIGES AMT" -> "auswartiges amt".
    Bank text is nearly always ASCII, which takes a single ``translate``.
    """
    if text.isascii():
        return " ".join(text.translate(_ASCII_WORDS).split())
    text = unicodedata.normalize("NFC", text).casefold().translate(_FOLD)
    return _basic(text)


def variants(name: str) -> set[str]:
    """Every normalised spelling under which a registry name is indexed.

    Covers umlauts written ``ae``/``oe``/``ue``, apostrophes dropped rather
    than split ("cote divoire"), "&" spelled "and", and a parenthesised part
    either removed or kept ("Myanmar (Burma)" -> "myanmar", "myanmar burma").
    """
    forms = {name, name.replace("&", " and ")}
    for form in list(forms):
        if "(" in form:
            forms.add(_PARENS.sub(" ", form))
    out: set[str] = set()
    for form in forms:
        folded = unicodedata.normalize("NFC", form).casefold().translate(_FOLD)
        for spelled in (folded, folded.translate(_UMLAUTS)):
            out.add(_basic(spelled))
            out.add(_basic(_APOSTROPHES.sub("", spelled)))
    out.discard("")
    return out


def inverted(name: str) -> list[str]:
    """ISO-style inverted names as words run in text.

    "Korea, Republic of" -> ["Korea", "Republic of Korea"];
    "Congo, The Democratic Republic of the" -> ["Congo",
    "The Democratic Republic of the Congo"]; "Virgin Islands, British" ->
    ["Virgin Islands"]. Names without a comma: [].
    """
    if "," not in name:
        return []
    head, _, tail = name.partition(",")
    head, tail = head.strip(), tail.strip()
    if not head or not tail:
        return []
    last = tail.split()[-1].casefold()
    if last == "of" or tail.casefold().endswith(" of the"):
        return [head, f"{tail} {head}"]
    return [head]


def tokens(text: str) -> tuple[str, ...]:
    """The words of :func:`normalise`; ASCII text is split straight after its ``translate``."""
    if text.isascii():
        return tuple(text.encode("ascii").translate(_ASCII_WORDS_BYTES).decode("ascii").split())
    return tuple(normalise(text).split())


def _generic_key(words: tuple[str, ...]) -> tuple[str, ...]:
    return without_stop_words(canonical(words))


_GENERIC_KEYS = frozenset(_generic_key(tuple(phrase.split())) for phrase in GENERIC_PHRASES)


def is_generic(text: str) -> bool:
    """Whether ``text`` names an office every State has, however abbreviated.

    "MINISTRY OF FOREIGN AFFAIRS", "MIN. DES AFF. ETRANGERES", "MOFA".
    """
    return _generic_key(tokens(text)) in _GENERIC_KEYS
