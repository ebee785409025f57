"""``report pack``: the Committee and auditor pack of one year, as a zip.

Contents: the Annual Financial Report (PDF and XLSX), the contributions,
budget and buffer reports (PDF, XLSX, JSON), one statement per contributing
State (PDF), and ``manifest.json`` with each file's SHA-256, the ledger
commit and its fingerprint. Reproducible: every renderer is deterministic
(fixed PDF and XLSX dates), zip members are sorted and carry a fixed
timestamp, so packing the same commit again gives the same manifest and the
same zip bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from reports.annual import annual_report
from reports.budget import budget_report
from reports.buffer import buffer_report
from reports.contributions import contributions_report
from reports.render_json import render_json
from reports.render_pdf import render_pdf
from reports.render_xlsx import FIXED_ZIP_TIME, render_xlsx
from reports.statement import statement_report

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Pack:
    data: bytes  # the zip
    manifest: dict


def pack_files(books, year: int, as_of=None, *, commit: str | None = None) -> dict[str, bytes]:
    """Every file of the pack by its name in the zip."""
    annual = annual_report(books, year, as_of, commit=commit)
    files: dict[str, bytes] = {
        f"annual-{year}.pdf": render_pdf(annual),
        f"annual-{year}.xlsx": render_xlsx(annual),
        f"annual-{year}.json": render_json(annual),
    }
    builders: dict[str, Callable] = {"contributions": contributions_report, "budget": budget_report, "buffer": buffer_report}
    for name, build in builders.items():
        report = build(books, year, as_of, commit=commit)
        files[f"{name}-{year}.pdf"] = render_pdf(report)
        files[f"{name}-{year}.xlsx"] = render_xlsx(report)
        files[f"{name}-{year}.json"] = render_json(report)
    # A statement for every State with a pledge or a receipt for the year (the annual report's rows).
    for state in sorted({row.state_party for row in annual.contributions.rows}):
        report = statement_report(books, year, state, as_of, commit=commit)
        files[f"statements/statement-{year}-{state}.pdf"] = render_pdf(report)
    return files


def build_pack(books, year: int, as_of=None, *, commit: str | None = None) -> Pack:
    files = pack_files(books, year, as_of, commit=commit)
    head = annual_report(books, year, as_of, commit=commit).header
    manifest = {
        "pack": "isu-ledger report pack",
        "year": year,
        "status": head.status,
        "as_of": head.as_of.isoformat(),
        "ledger_commit": commit,
        "ledger_sha256": books.fingerprint,
        "audit": None if head.audit is None else {
            "auditor": head.audit.auditor, "opinion_date": head.audit.opinion_date.isoformat(),
            "fingerprint": head.audit.fingerprint, "fingerprint_ok": head.audit.fingerprint_ok},
        "files": [
            {"name": name, "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
            for name, content in sorted(files.items())
        ],
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    return Pack(out.getvalue(), manifest)
