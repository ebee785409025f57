"""ledger.gcpause: the collector paused while a big structure is built, and
what was built handed to its oldest generation, not walked again at once."""

from __future__ import annotations

import gc
import weakref

import pytest

from ledger.gcpause import gc_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_paused_inside_and_on_again_after(collector_on):
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the outer block turns it on again
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    was = gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            built = [[n] for n in range(100)]
        assert not gc.isenabled()
        assert built
    finally:
        if was:
            gc.enable()


def test_what_was_built_goes_to_the_oldest_generation(collector_on):
    with gc_paused():
        built = [[n] for n in range(5000)]
    young = {id(o) for o in gc.get_objects(generation=0)} | {id(o) for o in gc.get_objects(generation=1)}
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert not any(id(item) in young for item in built)
    assert all(id(item) in oldest for item in built)


def test_a_cycle_built_inside_is_still_collected_by_a_full_collection(collector_on):
    class Node:
        pass

    with gc_paused():
        node = Node()
        node.me = node
        ref = weakref.ref(node)
        del node
    gc.collect(0)
    gc.collect()
    assert ref() is None
