"""The OpenAPI file against the running API (schemathesis): every operation,
property-based inputs, logged in as each role with a CSRF token - no server
error (5xx) and only documented status codes, whatever the input."""

from __future__ import annotations

import itertools
import os
import threading

import pytest
import requests
import schemathesis

from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from app.web.api import spec

SCHEMA = schemathesis.openapi.from_dict(spec())
ROLES = ("admin", "finance", "auditor", "committee")
EXAMPLES = int(os.environ.get("ISU_API_EXAMPLES", "6"))  # per operation and role; raise it for a longer run
# Served behind one (pretend) proxy: the logins that open each case's session
# come from their own addresses, so the failed logins schemathesis sends
# from 127.0.0.1 slow down only 127.0.0.1 (as they would an attacker).
ADDRESSES = (f"10.0.{n // 250}.{n % 250 + 1}" for n in itertools.count())


class Counted:
    """WSGI middleware: how many requests, how many answered 5xx."""

    def __init__(self, app):
        self.app, self.requests, self.errors = app, 0, 0

    def __call__(self, environ, start_response):
        self.requests += 1

        def start(status, headers, exc_info=None):
            if status.startswith("5"):
                self.errors += 1
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


@pytest.fixture(scope="module")
def totals():
    """Requests and server errors over the whole module (printed at its end)."""
    counts = {"requests": 0, "errors": 0}
    yield counts
    print(f"\nschemathesis: {counts['requests']} requests, {counts['errors']} server errors")


@pytest.fixture
def server(make_app, add_users, ledger, database_url, totals):
    """The app on a real socket (127.0.0.1, a free port) in a thread."""
    from werkzeug.serving import make_server

    app = make_app(ledger, database_url, TRUSTED_PROXIES=1)  # the API needs no Fava
    add_users(app)
    counted = Counted(app)
    httpd = make_server("127.0.0.1", 0, counted, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    totals["requests"] += counted.requests
    totals["errors"] += counted.errors
    assert counted.errors == 0


def session_for(base: str, password: str, role: str = "admin") -> tuple[requests.Session, str]:
    s = requests.Session()
    address = {"X-Forwarded-For": next(ADDRESSES)}
    token = s.get(f"{base}/api/csrf").json()["csrf_token"]
    r = s.post(f"{base}/api/login", json={"name": role, "password": password}, headers={"X-CSRFToken": token, **address})
    assert r.status_code == 200, r.text
    return s, r.json()["csrf_token"]


def test_openapi_file_describes_every_api_route(server):
    import re

    import flask

    from app.web.api import bp

    probe = flask.Flask("probe")
    probe.register_blueprint(bp)
    served = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) for r in probe.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert served - {"/api/openapi.json"} == set(spec()["paths"])
    r = requests.get(f"{server}/api/openapi.json")
    assert r.status_code == 200 and r.json() == spec()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", [op.ok() for op in SCHEMA.get_all_operations()], ids=lambda op: op.label)
def test_api_operation_never_fails_on_the_server(password, server, operation, role):
    # Login and logout end or replace the session: they get a fresh one per case.
    fresh = operation.path in ("/api/logout", "/api/login")
    session, token = session_for(server, password, role)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())
    def run(case):
        s, t = session_for(server, password, role) if fresh else (session, token)
        case.call_and_validate(base_url=server, session=s, headers={"X-CSRFToken": t},
                               checks=[not_a_server_error, status_code_conformance])

    run()
