"""Web accounts: create, change password, disable, authenticate.

Shared by ``isu-ledger user add|passwd|disable`` and the login page, so the
rules (password length, roles, rate limit) hold whichever way in. Passwords
are stored as werkzeug's scrypt hashes; there is no default password - the
demo creates its accounts with generated passwords and prints them.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.roles import ROLES
from app.web.db import LoginAttempt, User, WebSession, utcnow

MIN_PASSWORD = 12
MAX_FULL_NAME = 120
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")
WINDOW = datetime.timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_IP = 20
_DUMMY_HASH = generate_password_hash("isu-ledger: no such user")


class UserError(Exception):
    """A refused account change; ``str()`` is the one-line reason."""


class TooManyAttempts(Exception):
    """Login refused without checking the password: too many recent failures."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
    if password.strip() != password or not password.isprintable():
        raise UserError("password must be printable and not start or end with spaces")


def get_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).first()


def check_full_name(text: str | None) -> str | None:
    """A person's full name as a sign-off records it (one plain line; None
    for none). Refused: control characters, quotes and backslashes (the
    books write it as an unescaped Beancount string)."""
    name = " ".join((text or "").split())
    if not name:
        return None
    if len(name) > MAX_FULL_NAME:
        raise UserError(f"--full-name: at most {MAX_FULL_NAME} characters")
    if any(ch in name for ch in '"\\') or not name.isprintable():
        raise UserError(f"--full-name: {name[:40]!r} may not contain quotes, backslashes or control characters")
    return name


def add_user(session: Session, name: str, role: str, password: str, full_name: str | None = None) -> User:
    """A new account. An auditor's needs a full name: the name its sign-offs record."""
    if not NAME_RE.match(name or ""):
        raise UserError(f"{name!r}: a user name is 1-80 letters, digits, '.', '_', '@' or '-'")
    if role not in ROLES:
        raise UserError(f"{role}: not a role ({', '.join(ROLES)})")
    full_name = check_full_name(full_name)
    if role == "auditor" and not full_name:
        raise UserError(f"{name}: an auditor account needs --full-name (the name its sign-offs record)")
    check_password_rules(password)
    if get_user(session, name) is not None:
        raise UserError(f"{name}: user exists already")
    user = User(name=name, role=role, full_name=full_name, password_hash=generate_password_hash(password), active=True)
    session.add(user)
    session.flush()
    return user


def set_full_name(session: Session, name: str, full_name: str | None) -> User:
    user = _existing(session, name)
    full_name = check_full_name(full_name)
    if user.role == "auditor" and not full_name:
        raise UserError(f"{name}: an auditor account needs a full name (the name its sign-offs record)")
    user.full_name = full_name
    return user


def _existing(session: Session, name: str) -> User:
    user = get_user(session, name)
    if user is None:
        raise UserError(f"{name}: no such user")
    return user


def set_password(session: Session, name: str, password: str) -> User:
    """New password; open sessions of the user end (their stamp changes)."""
    user = _existing(session, name)
    check_password_rules(password)
    user.password_hash = generate_password_hash(password)
    user.password_changed_at = utcnow()
    user.active = True
    end_sessions(session, user)
    return user


def disable_user(session: Session, name: str) -> User:
    user = _existing(session, name)
    user.active = False
    end_sessions(session, user)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User, ip: str, lifetime: datetime.timedelta) -> str:
    """A new web session of ``user``: the token for the cookie (its hash is stored).

    The user's ended and expired sessions are cleared out at the same time,
    so the table holds about one row per open browser.
    """
    now = utcnow()
    session.execute(
        delete(WebSession).where(
            WebSession.user_id == user.id,
            or_(WebSession.ended_at.is_not(None), WebSession.created_at < now - lifetime),
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_token_hash(token), user_id=user.id, ip=ip[:64], created_at=now))
    return token


def session_open(session: Session, user: User, token: object, lifetime: datetime.timedelta) -> bool:
    """Whether ``token`` names an open (not ended, not expired) session of ``user``."""
    if not isinstance(token, str) or not token:
        return False
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
    return (
        row is not None
        and row.user_id == user.id
        and row.ended_at is None
        and row.created_at >= utcnow() - lifetime
    )


def end_session(session: Session, token: object) -> None:
    """Log out: the session named by ``token`` ends (a copy of its cookie is dead too)."""
    if isinstance(token, str) and token:
        session.execute(
            update(WebSession)
            .where(WebSession.token_hash == _token_hash(token), WebSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end_sessions(session: Session, user: User) -> None:
    """End every open session of ``user`` (password changed, account disabled)."""
    session.execute(
        update(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None)).values(ended_at=utcnow())
    )


def session_stamp(user: User) -> str:
    """A value kept in the session cookie that changes with the password, so
    a password change logs out every other session of that user."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


def _failures(session: Session, column, value: str, since: datetime.datetime) -> int:
    query = select(func.count(LoginAttempt.id)).where(column == value, LoginAttempt.at >= since, LoginAttempt.ok.is_(False))
    return session.scalar(query) or 0


def login_text(text: str | None) -> str:
    """What a login form may carry into SQL: printable characters only.

    A NUL byte (PostgreSQL text refuses it) or a lone surrogate (not
    encodable as UTF-8) cannot be part of any account name, so it is dropped
    before the attempt is recorded; such an attempt always fails.
    """
    return "".join(ch for ch in (text or "") if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)


def authenticate(session: Session, name: str, password: str, ip: str) -> User | None:
    """The active user with this name and password, or None; every attempt is
    recorded. Raises TooManyAttempts after MAX_FAILURES_PER_NAME failures for
    the name (or MAX_FAILURES_PER_IP from the address) within WINDOW - the
    limit lives in SQL, so it holds across server processes."""
    given = name or ""
    name = login_text(given)[:120]
    since = utcnow() - WINDOW
    if (
        _failures(session, LoginAttempt.name, name, since) >= MAX_FAILURES_PER_NAME
        or _failures(session, LoginAttempt.ip, ip, since) >= MAX_FAILURES_PER_IP
    ):
        raise TooManyAttempts("too many failed logins; try again in 15 minutes")
    # A name with text no account can have is never looked up (and never
    # "cleaned" into a real name): the attempt fails and is recorded.
    user = get_user(session, name) if name == given else None
    password = password or ""
    if not password.isprintable() or any(0xD800 <= ord(ch) <= 0xDFFF for ch in password):
        password = ""  # not a password anyone could have set: checked (for timing) and refused
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password) and bool(password)
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(name=name, ip=ip[:64], ok=ok))
    session.commit()
    return user if ok else None
