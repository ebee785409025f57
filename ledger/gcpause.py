"""Pausing the cyclic garbage collector while a large structure is built.

Loading a ledger or parsing a year of bank entries allocates hundreds of
thousands to millions of objects and no reference cycles worth collecting;
the collector would walk the growing heap again and again (unpickling
100,000 transactions: 17 s with it, 5 s without). It runs again after.

All that was built is then still the collector's youngest generation, and
its next collection would walk every object once (35 ms for a parsed
20,000-entry statement) to find nothing. So before the collector runs
again the objects are moved to its oldest generation (``gc.freeze()`` then
``gc.unfreeze()``: two list splices), where only a full collection looks,
as it would have after they survived two younger ones.
"""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def gc_paused():
    """Disable the cyclic collector inside the block (re-enabled after, if it was on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()  # everything to the oldest generation, not walked now
            gc.enable()
