"""The app factory and its database: configuration from the caller, the
schema built by the Alembic migrations (never create_all) and equal to the
models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from app.web import create_app


def test_create_app_needs_a_ledger_dir_and_a_secret(ledger, database_url):
    with pytest.raises(ValueError, match="LEDGER_DIR"):
        create_app({})
    with pytest.raises(ValueError, match="SECRET_KEY"):
        create_app({"LEDGER_DIR": ledger, "DATABASE_URL": database_url})


def test_migrations_build_exactly_the_models(ledger, database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, inspect

    from app.web.db import Base

    create_app({"LEDGER_DIR": ledger, "DATABASE_URL": database_url, "SECRET_KEY": "x" * 32})
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert "alembic_version" in inspect(conn).get_table_names()
    engine.dispose()
    # Starting again is a no-op (already at head).
    create_app({"LEDGER_DIR": ledger, "DATABASE_URL": database_url, "SECRET_KEY": "x" * 32})


def test_default_database_is_sqlite_in_the_ledger_and_git_ignored(ledger):
    from ledger.store import gitrepo

    app = create_app({"LEDGER_DIR": ledger, "SECRET_KEY": "x" * 32})
    assert app.config["DATABASE_URL"] == f"sqlite:///{ledger / 'isu-ledger.sqlite3'}"
    assert (ledger / "isu-ledger.sqlite3").is_file()
    assert gitrepo.status(ledger) == []


def test_pages_send_security_headers(ledger, database_url):
    app = create_app({"LEDGER_DIR": ledger, "DATABASE_URL": database_url, "TESTING": True})
    r = app.test_client().get("/login")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
