"""Fixtures of the browser tests: the real ``isu-ledger serve`` in a
subprocess over a new ledger (accounts finance, auditor, committee), and
Debian's Chromium driven by Playwright. Without /usr/bin/chromium every test
here is skipped (CI installs Debian's chromium)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (CI installs Debian's chromium)")
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(skip)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(password, tmp_path, database_url):
    """(base URL, ledger directory) of a running ``isu-ledger serve``."""
    from app.web.db import open_database
    from app.web.users import add_user
    from ledger.books import init_ledger

    ledger = init_ledger(tmp_path / "books", opening_balance="100000.00", as_of="2025-06-30", user="test:init").ledger_dir
    with open_database(database_url)() as s:
        for role in ("finance", "auditor", "committee"):
            add_user(s, role, role, password, f"{role.title()} Tester")
        s.commit()
    env = {**os.environ, "ISU_DATABASE_URL": database_url, "ISU_SECRET_KEY": "e2e-" + "k" * 40}
    yield from serve(ledger, env)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """(base URL, ledger directory, {account: password}) of ``isu-ledger serve``
    over the demo books (its own SQLite database), the story pinned to 28 November 2026."""
    import datetime

    from app.demo.build import build_demo

    ledger = tmp_path_factory.mktemp("demo-e2e") / "books"
    env = {k: v for k, v in os.environ.items() if k != "ISU_DATABASE_URL"}
    env["ISU_SECRET_KEY"] = "e2e-" + "k" * 40
    result = build_demo(ledger, today=datetime.date(2026, 11, 28), say=lambda _line: None)
    for base, books in serve(ledger, env):
        yield base, books, result.accounts


def serve(ledger: Path, env: dict):
    """Run ``isu-ledger serve`` over ``ledger``; yield (base URL, ledger); stop it."""
    port = free_port()
    exe = Path(sys.executable).with_name("isu-ledger")
    # The server's log goes to a file: a pipe nobody reads fills up (64 KiB of
    # access log) and then blocks the server mid-request.
    log = (ledger.parent / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen([str(exe), "--ledger", str(ledger), "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.close()
                pytest.fail("server did not start: " + Path(log.name).read_text(errors="replace"))
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", ledger
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def browser():
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _log_in(browser, base: str, name: str, password: str):
    page = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


@pytest.fixture
def log_in():
    """``log_in(browser, base, name, password)``: a page of a new browser
    context, signed in as ``name`` and on the dashboard."""
    return _log_in


AXE = HERE.parents[3] / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script (``npm install --prefix build/axe axe-core@4``, as
    .ci/run does); the tests that need it are skipped without it."""
    if not AXE.is_file():
        pytest.skip(f"{AXE} missing: npm install --prefix build/axe axe-core@4 (.ci/run does)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source):
    """``axe(page)``: the serious and critical accessibility violations on
    the page (WCAG 2 A/AA rules), as one line each. axe is evaluated through
    the browser's debugging protocol, so the page's CSP (no inline script)
    holds while it runs."""

    def check(page) -> list[str]:
        page.wait_for_load_state("load")  # colours and sizes as the style sheets make them
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)
        result = page.evaluate(
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        )
        return [
            f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(str(n['target']) for n in v['nodes'][:3])}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")
        ]

    return check
