"""Find a State Party (or other contributor) by what staff type: its code,
or any name the registry knows - the English name, CLDR names in many
languages ("Francia", "Frankreich"), staff aliases, ministries, demonyms.

:func:`search` answers a search-as-you-type box (word prefixes, best first);
:func:`resolve` turns what was typed into one code, or refuses in one plain
line: a receipt is never booked to a State guessed from a fragment.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

from ledger.names import canonical, tokens
from ledger.registry import Registry

MAX_HITS = 10
# The text a picked suggestion leaves in the box: "France (FRA)".
_PICKED = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z0-9]{3})\)\s*$")
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9]{2}$")


class StateNotFound(ValueError):
    """What was typed names no State, or several; ``str()`` is one plain line."""


@dataclass(frozen=True)
class Hit:
    code: str
    name: str  # the registry's English name
    matched: str  # the names that matched, in whatever language ("Alemanha, Alemania"; may be ``name``)

    @property
    def label(self) -> str:
        """What a picked suggestion puts in the box, and :func:`resolve` reads back."""
        return f"{self.name} ({self.code})"

    def to_json(self) -> dict:
        return {"code": self.code, "name": self.name, "matched": self.matched, "label": self.label}


# Per registry: every (normalised name, code, name as written), once. A
# registry is one object per version of the ledger's file, so this is built
# once per version and dropped with it.
_entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _names(registry: Registry) -> list[tuple[str, str, str, bool]]:
    """(normalised name, code, name as written, a demonym) of every name of every contributor."""
    found = _entries.get(registry)
    if found is None:
        found = []
        for key, hits in registry.name_index().items():
            for code, (text, source, _score) in hits.items():
                if code in registry:
                    found.append((" ".join(key), code, text, source == "demonym"))
        for c in registry.contributors():
            found.append((_spelled(c.name), c.iso3, c.name, False))
        _entries[registry] = found
    return found


def search(registry: Registry, query: str, limit: int = MAX_HITS) -> list[Hit]:
    """The contributors whose code is ``query`` or one of whose names has
    words starting with it ("fran" finds France by "Francia" and "Frankreich"),
    best first: the code, an exact name, a name starting with it, a later word."""
    text = (query or "").strip()
    picked = _PICKED.match(text)
    if picked and picked.group("code").upper() in registry:
        text = picked.group("code")
    q = _spelled(text)
    if not q:
        return []
    best: dict[str, tuple[tuple, list[str]]] = {}

    def offer(code: str, rank: int, key: str, matched: str, demonym: bool = False) -> None:
        score = (rank, demonym, len(key))  # a country's name says it better than "alemán"
        found = best.get(code)
        if found is None or score[:2] < found[0][:2]:
            best[code] = (score, [matched])
        elif score[:2] == found[0][:2] and matched not in found[1]:
            found[1].append(matched)  # other names as good: "Alemania", "Alemanha"

    if _CODE.match(text) and text.upper() in registry:
        offer(text.upper(), 0, "", registry.get(text.upper()).name)
    for key, code, matched, demonym in _names(registry):
        if key == q:
            offer(code, 1, key, matched, demonym)
        elif key.startswith(q):
            offer(code, 2, key, matched, demonym)
        elif f" {q}" in f" {key}":
            offer(code, 3, key, matched, demonym)
    ranked = sorted(best.items(), key=lambda kv: (kv[1][0][0], registry.get(kv[0]).name, kv[0]))
    return [Hit(code, registry.get(code).name, _shortest(names)) for code, (_, names) in ranked[:limit]]


def _shortest(names: list[str]) -> str:
    """The names that matched, shortest first (at most three): "Alemanha, Alemania"."""
    return ", ".join(sorted(names, key=lambda n: (len(n), n))[:3])


def resolve(registry: Registry, typed: str) -> str:
    """The code of the contributor ``typed`` names exactly: its code, a
    picked suggestion ("France (FRA)"), or a whole name in any language.
    Anything else - a fragment, a name of several States, nothing - is
    :class:`StateNotFound` with a plain line naming the candidates."""
    text = " ".join((typed or "").split())
    if not text:
        raise StateNotFound("Name the State Party: type its name (in any language) or its three-letter code.")
    picked = _PICKED.match(text)
    if picked and picked.group("code").upper() in registry:
        code = picked.group("code").upper()
        named = picked.group("name")
        if named and _exact(registry, named) not in (None, code) and _key(named) != _key(registry.get(code).name):
            raise StateNotFound(f"'{text}' names two different States; pick one from the list.")
        return code
    if _CODE.match(text) and text.upper() in registry:
        return text.upper()
    code = _exact(registry, text)
    if code:
        return code
    several = _exact_several(registry, text)
    if several:
        listed = ", ".join(f"{registry.get(c).name} ({c})" for c in sorted(several))
        raise StateNotFound(f"'{text}' is the name of several: {listed}. Pick one.")
    near = search(registry, text, limit=4)
    if near:
        listed = ", ".join(h.label for h in near)
        raise StateNotFound(f"No State Party is called '{text}'. Did you mean {listed}?")
    raise StateNotFound(f"No State Party or contributor is called '{text}'.")


def _spelled(text: str) -> str:
    """``text`` spelled as the registry's name index spells its keys (``ledger.names.canonical``)."""
    return " ".join(canonical(tokens(text)))


def _key(text: str) -> tuple[str, ...]:
    """``text`` as the registry's name index spells its keys (``ledger.names.canonical``)."""
    key = canonical(tokens(text))
    return key[1:] if len(key) > 1 and key[0] == "the" else key


def _named(registry: Registry, text: str) -> set[str]:
    """The contributors with exactly this name, in any language."""
    q = " ".join(_key(text))
    return {c for key, c, _, _ in _names(registry) if key == q}


def _exact(registry: Registry, text: str) -> str | None:
    """The one contributor with exactly this name (any language), if one."""
    code = registry.lookup(text)
    if code:
        return code
    codes = _named(registry, text)
    return codes.pop() if len(codes) == 1 else None


def _exact_several(registry: Registry, text: str) -> set[str]:
    codes = _named(registry, text)
    return codes if len(codes) > 1 else set()
