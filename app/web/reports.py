"""Reports: pick a report, a year and a format; download it, or preview it
as HTML. The same ``reports.command`` functions as ``isu-ledger report``
build and render it, so a download is byte-for-byte what the CLI writes
for the same books."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, render_template, request, url_for

from app.web import report_builds
from app.web.audit import record
from app.web.auth import current_user, require
from app.web.views import Refused, book_years, books, default_year, ledger_dir, parse_year

bp = Blueprint("reports", __name__, url_prefix="/reports")

NAMES = ("annual", "contributions", "budget", "buffer", "statement", "outlook")
FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}
# The report's own HTML is a standalone document with its styles inline; it
# runs no script, so its preview gets a CSP that allows inline styles only.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def make(name: str, year: int, fmt: str, as_of: str | None = None, state_party: str | None = None) -> tuple[bytes, str]:
    """The rendered report and its download file name; Refused on bad input,
    TooManyBuilds (429) when the user is building as many as allowed. The
    pack and PDFs are built once per commit (``report_builds``)."""
    from reports import command

    if name not in NAMES and name != "pack":
        raise Refused(f"{name}: unknown report ({', '.join(NAMES)}, pack)", 404)
    if fmt not in FORMATS:
        raise Refused(f"{fmt}: unknown format ({', '.join(FORMATS)})")
    state_party = (state_party or "").upper() or None
    try:
        when = command.parse_as_of(as_of) if as_of else None
        loaded, commit = command.load(ledger_dir())
        if name == "pack":
            from reports.pack import build_pack

            def build() -> bytes:
                return build_pack(loaded, year, when, commit=commit).data
        else:
            report = command.build(loaded, name, year, when, commit=commit, state_party=state_party)

            def build() -> bytes:
                return command.render(report, fmt)

        if report_builds.expensive(name, fmt) and commit is not None:
            key = None
            if report_builds.committed(ledger_dir()):
                key = report_builds.cache_key(commit, loaded.fingerprint, name, year, when, "zip" if name == "pack" else fmt, state_party)
            content = report_builds.built(ledger_dir(), key, build, user_id=current_user().id,
                                          limit=current_app.config["REPORT_BUILDS_PER_USER"])
        else:
            content = build()
    except command.ReportRefused as exc:
        raise Refused(str(exc)) from None
    if name == "pack":
        return content, f"isu-report-pack-{year}.zip"
    suffix = f"-{state_party}" if name == "statement" and state_party else ""
    return content, f"isu-{name}{suffix}-{year}.{fmt}"


def download(name: str, year: int, fmt: str, as_of: str | None, state_party: str | None) -> Response:
    content, filename = make(name, year, fmt, as_of, state_party)
    record("report.download", "ok", f"{filename} ({len(content)} bytes)")
    mimetype = "application/zip" if name == "pack" else FORMATS[fmt]
    inline = fmt == "html" and name != "pack" and request.args.get("download") is None
    if inline:  # shown in the app: a bar back to the Reports page (the downloaded file stays standalone)
        content = with_app_bar(content, name, year, as_of, state_party)
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    if inline:
        response.headers["Content-Security-Policy"] = PREVIEW_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


_BODY = re.compile(rb"<body[^>]*>", re.IGNORECASE)


def with_app_bar(content: bytes, name: str, year: int, as_of: str | None, state_party: str | None) -> bytes:
    """The report's HTML with the app's bar after ``<body>``: back to Reports,
    and the same report as PDF, Excel, JSON or an HTML file to keep. Its
    styles are inline (the preview's policy allows inline styles only)."""
    extra = {k: v for k, v in (("as_of", as_of), ("state_party", state_party)) if v}
    title = f"{name.capitalize()} report {year}"
    links = [(url_for("reports.get", name=name, year=year, format=f, **extra), label, f"{title}, {label}")
             for f, label in (("pdf", "PDF"), ("xlsx", "Excel"), ("json", "JSON"))]
    links.append((url_for("reports.get", name=name, year=year, format="html", download=1, **extra), "HTML file", f"{title}, HTML file"))
    bar = render_template("report_bar.html", back=url_for("reports.index"), links=links).encode("utf-8")
    match = _BODY.search(content)
    if match is None:
        return bar + content
    return content[: match.end()] + bar + content[match.end():]


@bp.get("/")
@require("reports")
def index():
    from ledger.registry import Registry

    b = books()
    return render_template(
        "reports.html",
        names=NAMES,
        formats=tuple(FORMATS),
        years=book_years(b.entries) or [default_year(b.entries)],
        year=default_year(b.entries),
        states=sorted(Registry.load(ledger_dir()).contributors(), key=lambda c: c.name),
    )


@bp.get("/<name>")
@require("reports")
def get(name: str):
    args = request.args
    year = parse_year(args.get("year"), fallback=default_year(books().entries))
    return download(name, year, args.get("format", "html"), args.get("as_of") or None, args.get("state_party") or None)
