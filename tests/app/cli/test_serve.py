"""``isu-ledger serve`` (gunicorn, several worker processes)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[3]
ISU_LEDGER = Path(sys.executable).with_name("isu-ledger")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.fixture
def server(ledger, tmp_path, password):
    """``isu-ledger serve`` on a free port with 2 workers of 2 threads, an
    auditor account, a fresh SQLite database (migrated by the master)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ISU_", "GUNICORN"))}
    subprocess.run([str(ISU_LEDGER), "--ledger", str(ledger), "user", "add", "auditor", "--role", "auditor", "--full-name", "A. Auditor"],
                   input=password + "\n", text=True, check=True, env=env, capture_output=True)
    port = free_port()
    log = (tmp_path / "access.log").open("w")
    proc = subprocess.Popen([str(ISU_LEDGER), "--ledger", str(ledger), "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
                            stdout=log, stderr=subprocess.PIPE, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a loaded machine boots workers slowly
        while True:
            try:
                if requests.get(base + "/login", timeout=30).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "isu-ledger serve did not answer"
                time.sleep(0.2)
        yield proc, base, tmp_path / "access.log"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        finally:
            log.close()
            if proc.poll() is None:
                proc.kill()


def test_serve_runs_gunicorn_workers_sharing_the_books_and_the_database(server, password):
    proc, base, access_log = server
    login_page = requests.get(base + "/login", timeout=60)
    assert login_page.status_code == 200
    assert login_page.headers["Server"].startswith("gunicorn")  # not Werkzeug's development server
    worker_pids = {str(pid) for pid in children(proc.pid)}
    assert len(worker_pids) == 2  # the master and its two worker processes

    client = requests.Session()
    token = _TOKEN.search(client.get(base + "/login", timeout=60).text).group(1)
    assert client.post(base + "/login", data={"name": "auditor", "password": password, "csrf_token": token},
                       allow_redirects=False, timeout=60).status_code == 302
    fava = client.get(base + "/fava/", timeout=60)
    assert fava.status_code == 200 and fava.headers["Server"].startswith("gunicorn")
    assert "/fava/" in fava.url and "ISU" in fava.text

    # Fresh connections in parallel: whichever worker takes one knows the
    # session (the shared database) and reads the same books.
    cookies = client.cookies.get_dict()

    def dashboard(_):
        response = requests.get(base + "/", cookies=cookies, allow_redirects=False, timeout=60, headers={"Connection": "close"})
        return response.status_code, "Awaiting review" in response.text

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(dashboard, range(16)))
    assert results == [(200, True)] * 16  # signed in on every worker, the dashboard drawn

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    lines = access_log.read_text().splitlines()
    assert any('"GET /fava/ HTTP/1.1" 302' in line or '"GET /fava/ HTTP/1.1" 200' in line for line in lines)
    assert sum('"GET / HTTP/1.1" 200' in line for line in lines) == 16  # the access log is on standard output
    served_by = {m.group(1) for line in lines if (m := re.search(r" <(\d+)> \d+ms$", line))}
    assert served_by and served_by <= worker_pids  # each request was answered by a worker, none by the master


def test_serve_refuses_bad_counts(ledger, cli, monkeypatch):
    code, _, err = cli(ledger, "serve", "--workers", "0")
    assert (code, err) == (2, "isu-ledger: Invalid value for '--workers': 0 is not in the range 1<=x<=64.\n")
    monkeypatch.setenv("ISU_THREADS", "many")  # the environment's default is checked the same way
    code, _, err = cli(ledger, "serve")
    assert code == 2 and err.startswith("isu-ledger: Invalid value for '--threads': 'many'") and err.count("\n") == 1
