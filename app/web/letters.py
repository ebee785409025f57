"""Letters page (finance, admin): the year's receipts to acknowledge and
overdue pledges to remind, each State's language, and which letters were
written (when, by whom, SHA-256); a button writes a letter (or every one not
yet written), another downloads it.

The same ``reports.letters`` functions as ``isu-ledger letters`` find,
word and set the letters; ``app.web.letter_log`` keeps each one once, and
every letter written is an audit event with its SHA-256. A PDF is always
sent as an attachment, never shown in the page.
"""

from __future__ import annotations

import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from app.web import letter_log
from app.web.audit import record
from app.web.auth import current_user, db, require
from app.web.registry import LANGUAGE_NAMES
from app.web.views import Refused, book_years, default_year, form_year, ledger_dir, parse_year

bp = Blueprint("letters", __name__, url_prefix="/letters")

KIND_TITLES = {"acknowledgement": "Acknowledgements of receipts", "reminder": "Reminders of overdue pledges"}


def _load():
    from reports import command

    try:
        return command.load(ledger_dir())
    except command.ReportRefused as exc:
        raise Refused(str(exc)) from None


def _rows(books, year: int, kind: str) -> list[dict]:
    """The letters of ``kind`` with what was written for each."""
    from ledger.registry import Registry
    from reports.letters import letters

    registry = Registry.load(ledger_dir())
    found = letters(books, year, kind)
    done = letter_log.written(db(), kind, [letter.key for letter in found])
    return [{"letter": letter, "name": registry.display_name(letter.state_party), "written": done.get(letter.key)}
            for letter in found]


@bp.get("/")
@require("letters")
def index():
    try:
        books, _commit = _load()
    except Refused as exc:
        return render_template("letters.html", problem=str(exc), year=None, years=[], kinds={}, titles=KIND_TITLES,
                               languages=LANGUAGE_NAMES)
    years = book_years(books.entries)
    year = parse_year(request.args.get("year"), fallback=default_year(books.entries))
    kinds = {kind: _rows(books, year, kind) for kind in KIND_TITLES}
    return render_template("letters.html", problem=None, year=year, years=years, kinds=kinds, titles=KIND_TITLES,
                           languages=LANGUAGE_NAMES)


def generate(year: int, kind: str, key: str | None, again: bool) -> tuple[int, int]:
    """Write the letter of ``key`` (every one not yet written when None);
    (written, skipped). Each one written is kept and audited."""
    from reports.letters import LetterTemplateError, letters, render

    if kind not in KIND_TITLES:
        raise Refused(f"{kind[:20]}: not a kind of letter")
    books, commit = _load()
    found = letters(books, year, kind)
    if key is not None:
        found = [letter for letter in found if letter.key == key]
        if not found:
            raise Refused(f"{key[:60]}: no such {kind} for {year}")
    done = letter_log.written(db(), kind, [letter.key for letter in found])
    todo = [letter for letter in found if again or letter.key not in done]
    today = datetime.date.today()
    try:
        rendered = [render(letter, books.ledger_dir, today) for letter in todo]
    except LetterTemplateError as exc:
        record("letter.generate", "refused", f"{kind} {year}: {exc}")
        raise Refused(str(exc)) from None
    user = current_user()
    session = db()
    for one in rendered:
        letter_log.keep(session, one, user_name=user.name, commit=commit, audit=False)
    session.commit()
    for one in rendered:
        record(letter_log.ACTION, "ok", letter_log.audit_detail(one, one.filename), commit=commit)
    return len(rendered), len(found) - len(todo)


@bp.post("/generate")
@require("letters")
def generate_view():
    form = request.form
    kind = form.get("kind", "")
    key = (form.get("key") or "").strip() or None
    try:
        year = form_year(form.get("year"))
        written, skipped = generate(year, kind, key, again=form.get("again") == "1")
    except Refused as exc:
        flash(str(exc), "error")
        return redirect(url_for("letters.index", year=form.get("year") if (form.get("year") or "").isdigit() else None), 303)
    noun = "letter" if written == 1 else "letters"
    message = f"{written} {noun} written."
    if skipped:
        message += f" {skipped} already written before (use Write again to write one again)."
    flash(message, "ok")
    return redirect(url_for("letters.index", year=year), 303)


@bp.get("/<int:letter_id>.pdf")
@require("letters")
def download(letter_id: int):
    row = letter_log.get(db(), letter_id) if letter_id < 2**31 else None  # beyond any SQL integer id: none
    if row is None:
        abort(404)
    record("letter.download", "ok", f"{row.kind} {row.key} sha256 {row.sha256}: {row.filename}")
    response = Response(row.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{row.filename}"'
    return response
