"""A beangulp configuration for the books in ./books: the same path as ``isu-ledger import``.

    python docs/beangulp-import.py identify statements/
    python docs/beangulp-import.py extract -e books/main.beancount statements/ > new.beancount

``extract`` prints what ``isu-ledger --ledger books import --dry-run`` would
book: the checked, identified transactions, the closing balances and the
``document`` directives (``-e`` may be left out: the importer loads the books
itself). Files of one run are booked in the order given (a directory's files
by name), each continuing the one before. To write them, with the archived
file and one git commit, use ``isu-ledger import``.
"""

import beangulp

from importers.beangulp_importer import IsuBankImporter

importers = [IsuBankImporter("books")]

if __name__ == "__main__":
    beangulp.Ingest(importers)()
