"""Finding a State by what staff type: a code, or a name in any language the
registry indexes; a fragment or a shared name is never resolved to one."""

from __future__ import annotations

import pytest

from ledger.registry import Registry
from ledger.state_search import StateNotFound, resolve, search


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.mark.parametrize("typed, code", [
    ("Francia", "FRA"), ("allemagne", "DEU"), ("Alemania", "DEU"), ("espagne", "ESP"), ("norv", "NOR"),
    ("fra", "FRA"), ("Côte", "CIV"), ("emirates", "ARE"),
])
def test_search_finds_by_any_name_or_word_prefix(registry, typed, code):
    hits = search(registry, typed)
    assert hits and hits[0].code == code
    assert hits[0].to_json() == {"code": code, "name": registry.get(code).name, "matched": hits[0].matched,
                                 "label": f"{registry.get(code).name} ({code})"}


def test_search_is_short_and_unique(registry):
    hits = search(registry, "a")
    assert len(hits) == 10 and len({h.code for h in hits}) == 10
    assert search(registry, "") == [] and search(registry, "  ") == [] and search(registry, "zzqx") == []
    assert [h.code for h in search(registry, "congo")] == ["COG", "COD"]  # exact names first, then by English name


@pytest.mark.parametrize("typed, code", [
    ("FRA", "FRA"), ("fra", "FRA"), ("France (FRA)", "FRA"), ("Francia", "FRA"), ("España", "ESP"),
    ("the Netherlands", "NLD"), ("  Suisse ", "CHE"),
])
def test_resolve_takes_a_code_a_picked_label_or_a_whole_name(registry, typed, code):
    assert resolve(registry, typed) == code


@pytest.mark.parametrize("typed, message", [
    ("", "Name the State Party"),
    ("Congo", "'Congo' is the name of several: Democratic Republic of the Congo (COD), Congo (COG). Pick one."),
    ("Franc", "No State Party is called 'Franc'. Did you mean France (FRA)"),
    ("Atlantis", "No State Party or contributor is called 'Atlantis'."),
    ("Spain (FRA)", "names two different States"),
])
def test_resolve_refuses_fragments_and_shared_names(registry, typed, message):
    with pytest.raises(StateNotFound) as refused:
        resolve(registry, typed)
    assert message in str(refused.value)


@pytest.mark.parametrize("typed, code", [
    ("República Dominicana", "DOM"), ("Rep. Dominicana", "DOM"), ("St. Lucia", "LCA"), ("st luc", "LCA"),
])
def test_names_are_read_as_the_registry_spells_them(registry, typed, code):
    """Institution words and their abbreviations ("República", "Rep.", "St.") are one word on both sides."""
    assert search(registry, typed)[0].code == code
    if "luc" not in typed:
        assert resolve(registry, typed) == code
