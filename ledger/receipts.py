"""The one reading of attributed contributions in the books.

Received per State Party and work-plan year is the sum of the postings to the
attributed-contribution accounts (income by work plan *and* the advance
liability) carrying ``state_party`` and ``wp_year``, with the sign flipped
(credits are receipts). Counting both accounts is what makes it right in every
case:

- an advance (liability, wp_year next year) counts for its work-plan year the
  day it arrives;
- the year-end recognition debits the liability and credits income with the
  same attribution, so its two legs cancel: nothing is counted twice;
- a reversal carries the same attribution with the opposite sign and nets out.

Pledge status (``ledger.finance.pledges``) and every report (``reports/``) count
receipts through :func:`contribution_postings`; ``reports.bql`` states the
same rule as a BQL query and the tests hold the two equal.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator

from beancount.core import data

from ledger import conventions
from ledger.plugins.isu_rules import as_year


def wp_year_of(meta: dict | None) -> int | None:
    return as_year((meta or {}).get(conventions.META_WP_YEAR))


def contribution_postings(
    entries: Iterable, as_of: datetime.date | None = None
) -> Iterator[tuple[data.Transaction, data.Posting, str, int]]:
    """Every attributed contribution posting dated by ``as_of`` (all when
    None): (transaction, posting, state_party, wp_year). ``entries`` are
    sorted by date, as the loader gives them."""
    for entry in entries:
        if as_of is not None and entry.date > as_of:
            break
        if not isinstance(entry, data.Transaction):
            continue
        for posting in entry.postings:
            if not conventions.is_contribution_account(posting.account) or posting.units is None:
                continue
            meta = posting.meta or {}
            state = meta.get(conventions.META_STATE_PARTY)
            wp_year = wp_year_of(meta)
            if isinstance(state, str) and wp_year is not None:
                yield entry, posting, state, wp_year


def is_recognition(entry: data.Transaction) -> bool:
    return (entry.meta or {}).get(conventions.META_KIND) == "recognition"
