"""The status page: where the books stand (bank balance, review queue, last write)."""

from __future__ import annotations

import subprocess
from decimal import Decimal

from flask import Blueprint, current_app, render_template

from ledger import conventions as c

bp = Blueprint("status", __name__)


def _last_commit(ledger_dir) -> str:
    out = subprocess.run(
        ["git", "-C", str(ledger_dir), "log", "-1", "--format=%h %ad %an: %s", "--date=short"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()


@bp.get("/")
def index():
    from ledger.loader import load_books

    ledger_dir = current_app.config["LEDGER_DIR"]
    books = load_books(ledger_dir)
    bank = Decimal(0)
    unidentified = 0
    for entry in books.entries:
        for posting in getattr(entry, "postings", ()):
            if posting.account == c.BANK and posting.units is not None:
                bank += posting.units.number
            elif posting.account == c.UNIDENTIFIED:
                unidentified += 1
    return render_template(
        "status.html",
        ledger_dir=ledger_dir,
        bank=f"{bank:,.2f}",
        currency=c.CURRENCY,
        unidentified=unidentified,
        errors=len(books.errors),
        last_commit=_last_commit(ledger_dir),
    )
