"""Fixtures of the web app tests (tests/app/web, its e2e browser tests).

Every test gets its own app over its own ledger and a fresh database:
a SQLite file in tmp_path and - when ISU_TEST_DATABASE_URL is set (CI) -
again on a PostgreSQL schema created for the test session (dropped after
it), emptied after every test. Passwords are real (scrypt); CSRF is on, as in production.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from common.statements import camt053
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.roles import ROLES
PASSWORD = "correct horse battery staple"
FULL_NAMES = {"admin": "Ada Admin", "finance": "Fiona Finance", "auditor": "Aude Auditor", "committee": "Cem Committee"}


# The ledger of the app tests: opening 100000.00 CHF on 2025-06-30; JULY adds
# a receipt nobody can identify (the review item) and one from Slovakia.
JULY = camt053(
    [
        {"ref": "APP-0701", "date": "2025-07-10", "amount": "2000.00", "name": "ACME TRADING SARL", "text": "INVOICE 42"},
        {"ref": "APP-0702", "date": "2025-07-20", "amount": "5000.00",
         "name": "MINISTRY OF FOREIGN AND EUROPEAN AFFAIRS OF THE SLOVAK REPUBLIC", "text": "ISU 2025 CORE WORK PLAN"},
    ],
    opening=("2025-06-30", "100000.00"),
    closing=("2025-07-31", "107000.00"),
    ident="S-2025-07",
)
AUGUST = camt053(
    [{"ref": "APP-0801", "date": "2025-08-05", "amount": "1500.00", "name": "J DOE", "text": "GIFT"}],
    opening=("2025-07-31", "107000.00"),
    closing=("2025-08-31", "108500.00"),
    ident="S-2025-08",
)


def new_ledger(root: Path, *, with_july: bool = True) -> Path:
    from ledger.books import init_ledger
    from importers.importing import import_files

    ledger = init_ledger(root / "books", opening_balance="100000.00", as_of="2025-06-30", user="test:init").ledger_dir
    if with_july:
        path = root / "july.camt053.xml"
        path.write_text(JULY, encoding="utf-8")
        import_files(ledger, [path], user="test:import")
    return ledger


# The web-app suite runs on SQLite, and on PostgreSQL too when
# ISU_TEST_DATABASE_URL names a server (.ci/run sets it).
DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("ISU_TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session", params=DATABASES)
def database_base(request):
    """None (SQLite per test) or the URL of a PostgreSQL schema for this session."""
    if request.param == "sqlite":
        yield None
        return
    url = os.environ["ISU_TEST_DATABASE_URL"]
    schema = f"isu_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _empty_tables(url: str) -> None:
    from sqlalchemy import inspect

    from app.web.db import Base

    engine = create_engine(url)
    with engine.begin() as conn:
        existing = set(inspect(conn).get_table_names())
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in existing:
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def database_url(tmp_path, database_base):
    if database_base is None:
        yield f"sqlite:///{tmp_path / 'app.sqlite3'}"
        return
    yield database_base
    _empty_tables(database_base)


@pytest.fixture(scope="session")
def ledger_template(tmp_path_factory) -> Path:
    """The app tests' ledger, built once per session (init + import are the slow part)."""
    return new_ledger(tmp_path_factory.mktemp("ledger-template"))


@pytest.fixture
def ledger(tmp_path, ledger_template) -> Path:
    """A private copy of the template ledger (a git repository like any other)."""
    import shutil

    target = tmp_path / "books"
    shutil.copytree(ledger_template, target, ignore=shutil.ignore_patterns("*.picklecache", "*.sqlite3", ".isu-secret"))
    return target


def make_app(ledger: Path, database_url: str, *, wsgi: bool = False, **extra):
    from app.web import create_app, create_wsgi

    config = {"LEDGER_DIR": ledger, "DATABASE_URL": database_url, "SECRET_KEY": "test-" + uuid.uuid4().hex, "SESSION_COOKIE_SECURE": False, **extra}
    return create_wsgi(config) if wsgi else create_app(config)


def add_users(app, roles=ROLES) -> None:
    from app.web.users import add_user

    with app.extensions["isu_db"]() as s:
        for role in roles:
            add_user(s, role, role, PASSWORD, FULL_NAMES[role])
        s.commit()


@pytest.fixture
def app(ledger, database_url):
    application = make_app(ledger, database_url)
    add_users(application)
    return application


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client) -> str:
    """This client's session CSRF token (as a page or API client gets it)."""
    return client.get("/api/csrf").get_json()["csrf_token"]


def login(client, name: str, password: str = PASSWORD):
    page = client.get("/login")
    token = _TOKEN.search(page.get_data(as_text=True)).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def logged_in(app, role: str):
    client = app.test_client()
    response = login(client, role)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


# --- the helpers above, as fixtures -------------------------------------------


@pytest.fixture
def password() -> str:
    """The password of every test account (one per role, named after it)."""
    return PASSWORD


@pytest.fixture
def july_statement() -> str:
    """The July statement the test ledger was built with."""
    return JULY


@pytest.fixture
def august_statement() -> str:
    """The next month: one receipt nobody can identify."""
    return AUGUST


@pytest.fixture(name="make_app")
def make_app_fixture():
    """``make_app(ledger, database_url, wsgi=False, **config)``: a new app."""
    return make_app


@pytest.fixture(name="add_users")
def add_users_fixture():
    """``add_users(app, roles)``: one account per role, named after it."""
    return add_users


@pytest.fixture(name="csrf")
def csrf_fixture():
    """``csrf(client)``: the client's session CSRF token."""
    return csrf


@pytest.fixture(name="login")
def login_fixture():
    """``login(client, name, password)``: the response of the login form."""
    return login


@pytest.fixture(name="logged_in")
def logged_in_fixture():
    """``logged_in(app, role)``: a test client signed in as that role."""
    return logged_in
