"""The OpenAPI file against the running API (schemathesis): every operation,
property-based inputs, logged in as admin with a CSRF token - no server
error (5xx) and only documented status codes, whatever the input."""

from __future__ import annotations

import threading

import pytest
import requests
import schemathesis

from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from app.web.api import spec

SCHEMA = schemathesis.openapi.from_dict(spec())


@pytest.fixture
def server(make_app, add_users, ledger, database_url):
    """The app on a real socket (127.0.0.1, a free port) in a thread."""
    from werkzeug.serving import make_server

    app = make_app(ledger, database_url)  # the API needs no Fava
    add_users(app, ("admin",))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def session_for(base: str, password: str) -> tuple[requests.Session, str]:
    s = requests.Session()
    token = s.get(f"{base}/api/csrf").json()["csrf_token"]
    r = s.post(f"{base}/api/login", json={"name": "admin", "password": password}, headers={"X-CSRFToken": token})
    assert r.status_code == 200
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


@pytest.mark.parametrize("operation", [op.ok() for op in SCHEMA.get_all_operations()], ids=lambda op: op.label)
def test_api_operation_never_fails_on_the_server(password, server, operation):
    # Login and logout end or replace the session: they get a fresh one per case.
    fresh = operation.path in ("/api/logout", "/api/login")
    session, token = session_for(server, password)

    @settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())
    def run(case):
        s, t = session_for(server, password) if fresh else (session, token)
        case.call_and_validate(base_url=server, session=s, headers={"X-CSRFToken": t},
                               checks=[not_a_server_error, status_code_conformance])

    run()
