"""Workflow state in SQL: users and their web sessions, import batches,
review decisions, the rules mirror, sign-offs and audit events. Money is
never stored here - it lives only in the ledger; rows here point at the
ledger commit that holds it.

SQLAlchemy 2.0 typed models (``DeclarativeBase``, ``Mapped``) in the style
of warehouse. The schema is created and upgraded by the Alembic migrations
in ``app/web/migrations`` (``upgrade``), never by ``create_all``, so a
production PostgreSQL database and a test SQLite file take the same path.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Annotated, Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)

DEFAULT_DB_NAME = "isu-ledger.sqlite3"  # git-ignored by the ledger's .gitignore (*.sqlite3)

intpk = Annotated[int, mapped_column(primary_key=True)]
name_str = Annotated[str, mapped_column(String(120))]
sha_str = Annotated[str | None, mapped_column(String(64))]


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)


created = Annotated[datetime.datetime, mapped_column(default=utcnow, index=True)]


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict] = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    """A web account. ``role`` is one of ``app.roles.ROLES``; a disabled user cannot log in
    and loses any open session at its next request."""

    __tablename__ = "users"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    full_name: Mapped[str | None] = mapped_column(String(120))  # what the person's sign-off records
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created]
    password_changed_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)

    @property
    def ledger_user(self) -> str:
        """The author of ledger commits made by this user (``web:alice``)."""
        return f"web:{self.name}"


class LoginAttempt(Base):
    """Every login attempt, for rate limiting (failures per name and address)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_name_at", "name", "at"), Index("ix_login_attempts_ip_at", "ip", "at"))

    id: Mapped[intpk]
    name: Mapped[name_str]
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool]


class WebSession(Base):
    """One login: the session cookie holds a random token, this row its
    SHA-256 (a copy of the table opens no session). A session is valid
    while its row is not ended and younger than the session lifetime;
    logging out ends the row, so a copied cookie is dead from then on."""

    __tablename__ = "web_sessions"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[created]
    ended_at: Mapped[datetime.datetime | None]


class ImportBatch(Base):
    """One upload: previewed (nothing written), then booked or discarded;
    a booked batch may later be undone (``undo_commit`` takes its entries out).

    ``preview`` is the dry-run report (``ImportReport.to_json()``) shown to the
    user, ``files`` the original names and where the upload waits meanwhile.
    """

    __tablename__ = "import_batches"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created]
    status: Mapped[str] = mapped_column(String(20))  # previewed | confirming | booked | discarded | failed | undoing | undone
    upload_dir: Mapped[str | None] = mapped_column(Text)
    files: Mapped[list[Any]]
    preview: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    commit: Mapped[sha_str]
    decided_at: Mapped[datetime.datetime | None]
    undo_commit: Mapped[sha_str]
    undone_at: Mapped[datetime.datetime | None]
    # when a request took the batch to ``confirming`` or ``undoing``: a batch
    # still there long after is one whose request died (``batch_recovery``)
    claimed_at: Mapped[datetime.datetime | None]

    user: Mapped[User] = relationship()


class ReviewDecision(Base):
    """A review item resolved in the app (the ledger commit holds the booking)."""

    __tablename__ = "review_decisions"

    id: Mapped[intpk]
    item_id: Mapped[str] = mapped_column(String(16), index=True)
    bank_ref: Mapped[str | None] = mapped_column(String(200))
    state_party: Mapped[str] = mapped_column(String(8))
    wp_year: Mapped[int]
    work_plan: Mapped[str] = mapped_column(String(40))
    remember: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created]
    commit: Mapped[sha_str]

    user: Mapped[User] = relationship()


class MatchingRule(Base):
    """Mirror of a rule learned in the app (the book of record is
    ``registry/rules.csv`` in the ledger, written in the same commit)."""

    __tablename__ = "matching_rules"

    id: Mapped[intpk]
    payer_account: Mapped[str | None] = mapped_column(String(64))
    payer_name: Mapped[str | None] = mapped_column(String(200))
    state_party: Mapped[str] = mapped_column(String(8))
    work_plan: Mapped[str] = mapped_column(String(40))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("review_decisions.id"))
    created_by: Mapped[name_str]
    created_at: Mapped[created]
    commit: Mapped[sha_str]


class SignOff(Base):
    """An auditor's sign-off of a closed year, as recorded through the app:
    ``auditor`` is the signed-in account's full name, ``on_behalf_of`` the
    firm or office it signed for (if any)."""

    __tablename__ = "sign_offs"

    id: Mapped[intpk]
    year: Mapped[int] = mapped_column(index=True)
    auditor: Mapped[name_str]
    on_behalf_of: Mapped[str | None] = mapped_column(String(200))
    opinion_date: Mapped[datetime.date]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created]
    commit: Mapped[sha_str]


class AuditEvent(Base):
    """Who did what, when, from where, with what outcome, and which ledger
    commit (if any) it produced - so the web log and ``git log`` meet."""

    __tablename__ = "audit_events"

    id: Mapped[intpk]
    at: Mapped[datetime.datetime] = mapped_column(default=utcnow, index=True)
    user_name: Mapped[str | None] = mapped_column(String(80))
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60), index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # ok | refused | failed
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(64))
    commit: Mapped[sha_str]


class GeneratedLetter(Base):
    """A letter to a State written once (``reports.letters``): an
    acknowledgement of a receipt (``key`` = bank reference/State) or a
    reminder of a pledge (``key`` = pledge id). The PDF is kept as written,
    so the download is the file whose SHA-256 the audit log records; a
    letter is not written twice for the same key unless staff ask again."""

    __tablename__ = "generated_letters"
    __table_args__ = (Index("ix_generated_letters_kind_key", "kind", "key"),)

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(20))  # acknowledgement | reminder
    key: Mapped[str] = mapped_column(String(200))
    wp_year: Mapped[int] = mapped_column(index=True)
    state_party: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    user_name: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[created]
    commit: Mapped[sha_str]  # the ledger commit the letter was written from


# --- engine and migrations ----------------------------------------------------


def default_url(ledger_dir: Path) -> str:
    return f"sqlite:///{Path(ledger_dir) / DEFAULT_DB_NAME}"


def private_sqlite_file(url: str) -> None:
    """Make the SQLite file of ``url`` readable by its owner only (0600): it
    holds password and session hashes and the audit log. It is created so
    before SQLite opens it (SQLite gives its -journal, -wal and -shm files the
    database file's mode); a file made looser before is tightened."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for companion in (path, *(path.with_name(path.name + suffix) for suffix in ("-journal", "-wal", "-shm"))):
        try:
            if companion.stat().st_mode & 0o077:
                os.chmod(companion, 0o600)
        except FileNotFoundError:
            pass


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets foreign keys, a busy timeout (the threaded
    server and the CLI may write at once) and a private file."""
    if url.startswith("sqlite"):
        private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic's command API)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def open_database(url: str) -> sessionmaker[Session]:
    """Engine + migrations + a session factory; what the app and CLI share."""
    engine = make_engine(url)
    upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)
