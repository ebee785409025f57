"""Beancount plugins that enforce the ISU's rules of the books.

``main.beancount`` lists them, so ``bean-check``, Fava and ``isu-ledger
check`` all enforce the same rules on the same load:

- ``ledger.plugins.isu_rules``: contribution metadata (State Party known to
  the registry, work plan, work-plan year, tag, bank reference), deferral of
  advance contributions, and the shape of suspense (unidentified) postings.
- ``ledger.plugins.year_lock``: a signed-off year is frozen; list it last, so
  it fingerprints the same entries a full load returns.

Plugins never raise and never change entries: they return the entries they
were given and a list of errors ``(source, message, entry)``.
"""
