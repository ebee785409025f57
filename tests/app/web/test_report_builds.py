"""The pack and PDFs are built once per commit of the books and kept under
``.git/isu-reports`` (across restarts and workers); each user builds at most
one at a time - more is a 429 with Retry-After."""

from __future__ import annotations

import io
import json
import threading
import zipfile

from ledger.store import gitrepo
from ledger.store.writer import write_plan


def kept(ledger) -> list:
    return sorted((gitrepo.git_dir(ledger) / "isu-reports").glob("*.bin"))


def manifest(data: bytes) -> dict:
    return json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))


def refuse_to_build(*args, **kwargs):
    raise AssertionError("built again")


def test_the_pack_of_a_commit_is_built_once_and_kept_across_restarts(make_app, add_users, logged_in, ledger, database_url, monkeypatch):
    app = make_app(ledger, database_url)
    add_users(app, ["committee", "auditor"])
    first = logged_in(app, "committee").get("/api/reports/pack?year=2025")
    assert first.status_code == 200 and first.mimetype == "application/zip"
    assert manifest(first.data)["ledger_commit"] == gitrepo.head(ledger)
    assert len(kept(ledger)) == 1

    import reports.pack

    real_build = reports.pack.build_pack
    monkeypatch.setattr(reports.pack, "build_pack", refuse_to_build)
    restarted = make_app(ledger, database_url)  # another worker, or after a restart
    for role, path in (("auditor", "/api/reports/pack?year=2025"), ("committee", "/reports/pack?year=2025&format=pdf")):
        again = logged_in(restarted, role).get(path)
        assert again.status_code == 200 and again.data == first.data  # the same bytes, not built again

    # A new commit is new books: a new pack, kept beside the first.
    write_plan(ledger, "test:books", "a document", [], files=[("documents/note.txt", b"note\n")])
    monkeypatch.setattr(reports.pack, "build_pack", real_build)
    newer = logged_in(restarted, "committee").get("/api/reports/pack?year=2025")
    assert newer.status_code == 200 and manifest(newer.data)["ledger_commit"] == gitrepo.head(ledger)
    assert len(kept(ledger)) == 2


def test_a_pdf_is_kept_and_books_with_uncommitted_changes_are_never_kept(app, logged_in, ledger):
    client = logged_in(app, "committee")
    pdf = client.get("/api/reports/annual?year=2025&format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and len(kept(ledger)) == 1
    assert client.get("/api/reports/annual?year=2025&format=json").status_code == 200
    assert len(kept(ledger)) == 1  # JSON is cheap: not kept
    main = ledger / "main.beancount"
    main.write_text(main.read_text(encoding="utf-8") + "; edited by hand, not committed\n", encoding="utf-8")
    assert client.get("/api/reports/contributions?year=2025&format=pdf").status_code == 200
    assert len(kept(ledger)) == 1  # these books are not a commit


def test_a_user_builds_one_expensive_report_at_a_time(make_app, add_users, logged_in, ledger, database_url, monkeypatch):
    import reports.pack

    app = make_app(ledger, database_url)
    add_users(app, ["committee", "auditor"])
    real_build = reports.pack.build_pack
    started, release = threading.Event(), threading.Event()

    def slow_build(*args, **kwargs):
        started.set()
        assert release.wait(60)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(reports.pack, "build_pack", slow_build)
    first_tab, second_tab = logged_in(app, "committee"), logged_in(app, "committee")
    results = {}
    building = threading.Thread(target=lambda: results.update(pack=first_tab.get("/api/reports/pack?year=2025")))
    building.start()
    try:
        assert started.wait(60)
        busy = second_tab.get("/api/reports/annual?year=2025&format=pdf")
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "5"
        assert busy.get_json() == {"status": 429, "error": "too many reports at once: your report is still being built; "
                                                            "try again in a few seconds"}
        page = second_tab.get("/reports/annual?year=2025&format=pdf")
        assert page.status_code == 429 and page.headers["Retry-After"] == "5" and "too many reports at once" in page.get_data(as_text=True)
        assert second_tab.get("/api/reports/annual?year=2025&format=json").status_code == 200  # cheap reports are not limited
        other_user = logged_in(app, "auditor").get("/api/reports/annual?year=2025&format=pdf")
        assert other_user.status_code == 200  # the limit is per user
    finally:
        release.set()
        building.join(60)
    assert results["pack"].status_code == 200
    assert second_tab.get("/api/reports/contributions?year=2025&format=pdf").status_code == 200  # the slot is free again


def test_six_parallel_requests_for_the_same_pack_build_it_once(app, logged_in, monkeypatch):
    """The finding: six parallel packs by one committee member pinned the CPU.
    Now one builds it; the others wait for it and get the same bytes."""
    from concurrent.futures import ThreadPoolExecutor

    import reports.pack

    real_build, builds = reports.pack.build_pack, []

    def counted(*args, **kwargs):
        builds.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(reports.pack, "build_pack", counted)
    tabs = [logged_in(app, "committee") for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda tab: tab.get("/api/reports/pack?year=2025"), tabs))
    assert [r.status_code for r in responses] == [200] * 6
    assert len({r.data for r in responses}) == 1 and len(builds) == 1


def test_the_api_describes_the_429(app):
    from app.web.api import spec

    responses = spec()["paths"]["/api/reports/{name}"]["get"]["responses"]
    assert responses["429"] == {"$ref": "#/components/responses/Busy"}
    assert "Retry-After" in spec()["components"]["responses"]["Busy"]["headers"]


def test_only_the_newest_reports_are_kept(ledger, monkeypatch):
    import os
    import time

    from app.web import report_builds

    monkeypatch.setattr(report_builds, "KEPT", 2)
    where = report_builds.directory(ledger)
    old_lock = where / "locks" / ("f" * 64 + ".lock")  # a report refused long ago, never built
    old_lock.touch()
    os.utime(old_lock, (time.time() - 7200,) * 2)
    for n in range(3):
        key = report_builds.cache_key("c" * 40, "f" * 64, "pack", 2020 + n)
        assert report_builds.built(ledger, key, lambda n=n: b"report %d" % n, user_id=1, limit=1) == b"report %d" % n
        os.utime(where / f"{key}.bin", (time.time() - 100 + n,) * 2)
    assert sorted(p.read_bytes() for p in kept(ledger)) == [b"report 1", b"report 2"]
    assert not old_lock.exists()
