"""Web accounts: create, change password, disable, authenticate.

Shared by ``isu-ledger user add|passwd|set|disable`` and the login page, so
the rules (password length, roles, login throttling) hold whichever way in.
Passwords are stored as werkzeug's scrypt hashes; there is no default
password - the demo creates its accounts with generated passwords and
prints them.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
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
# Login throttling: per (account, address) and per address, growing delays.
FREE_FAILURES = 5  # failures of one account from one address before any delay
FREE_FAILURES_PER_ADDRESS = 20  # failures from one address, all names, before any delay
MAX_DELAY = datetime.timedelta(minutes=15)
WINDOW = datetime.timedelta(hours=24)  # failures older than this count for nothing
_DUMMY_HASH = generate_password_hash("isu-ledger: no such user")


class UserError(Exception):
    """A refused account change; ``str()`` is the one-line reason."""


class TooManyAttempts(Exception):
    """Login refused without checking the password: too many recent failures
    from this address (for this account); ``seconds`` is how long to wait."""

    def __init__(self, wait: datetime.timedelta):
        self.seconds = max(int(-(-wait.total_seconds() // 1)), 1)  # whole seconds, rounded up
        super().__init__(f"too many failed logins; try again in {self.seconds} second{'s' if self.seconds != 1 else ''}")


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
    if password.strip() != password or not password.isprintable():
        raise UserError("password must be printable and not start or end with spaces")


def get_user(session: Session, name: str) -> User | None:
    """The account called ``name``; None for a name no account can have
    (not even sent to the database: it may hold a NUL PostgreSQL refuses)."""
    if not NAME_RE.match(name or ""):
        return None
    return session.scalars(select(User).where(User.name == name)).first()


def check_full_name(text: str | None) -> str | None:
    """A person's full name as a sign-off records it (one plain line; None
    for none). Refused: control characters, quotes and backslashes (the
    books write it as an unescaped Beancount string)."""
    name = " ".join((text or "").split())
    if not name:
        return None
    if len(name) > MAX_FULL_NAME:
        raise UserError(f"full name: at most {MAX_FULL_NAME} characters")
    if any(ch in name for ch in '"\\') or not name.isprintable():
        raise UserError(f"full name: {name[:40]!r} may not contain quotes, backslashes or control characters")
    return name


def add_user(session: Session, name: str, role: str, password: str, full_name: str | None = None) -> User:
    """A new account. An auditor's needs a full name: the name its sign-offs record."""
    if not NAME_RE.match(name or ""):
        raise UserError(f"{name!r}: a user name is 1-80 letters, digits, '.', '_', '@' or '-'")
    if role not in ROLES:
        raise UserError(f"{role}: not a role ({', '.join(ROLES)})")
    full_name = check_full_name(full_name)
    if role == "auditor" and not full_name:
        raise UserError(f"{name}: an auditor account needs a full name (the name its sign-offs record)")
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
        raise UserError(f"{name}: no such user" if NAME_RE.match(name or "") else "no such user")
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


def login_text(text: str | None) -> str:
    """What a login form may carry into SQL: printable characters only.

    A NUL byte (PostgreSQL text refuses it) or a lone surrogate (not
    encodable as UTF-8) cannot be part of any account name, so it is dropped
    before the attempt is recorded; such an attempt always fails.
    """
    return "".join(ch for ch in (text or "") if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)


def attempt_key(name: str, user: User | None, secret: bytes) -> str:
    """What a login attempt records of the name typed: the account's name
    when it exists, else one of 256 anonymous buckets (``?`` and two hex
    digits of a keyed hash). A password typed into the name field is never
    stored, while a name that does not exist is throttled like one that
    does - the answers tell nobody which names are accounts."""
    if user is not None:
        return user.name
    digest = hmac.new(secret, name.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return f"?{digest[0]:02x}"


def delay_after(failures: int, free: int) -> datetime.timedelta:
    """How long to wait after the last of ``failures`` failed logins: nothing
    for the first ``free``, then 1, 2, 4 ... seconds, at most MAX_DELAY."""
    if failures < free:
        return datetime.timedelta(0)
    return min(datetime.timedelta(seconds=2 ** min(failures - free, 20)), MAX_DELAY)


def _wait(session: Session, free: int, since: datetime.datetime, now: datetime.datetime, *where) -> datetime.timedelta:
    """The time still to wait for attempts matching ``where`` (failures since ``since``)."""
    failures, last = session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.at)).where(*where, LoginAttempt.at >= since, LoginAttempt.ok.is_(False))
    ).one()
    if not failures:
        return datetime.timedelta(0)
    return max(last + delay_after(failures, free) - now, datetime.timedelta(0))


def login_wait(session: Session, key: str, ip: str, now: datetime.datetime) -> datetime.timedelta:
    """How long a login as ``key`` from ``ip`` must wait: the longer of the
    delay of that (account, address) pair - its failures since its last
    success - and that of the address over all names (password spraying)."""
    since = now - WINDOW
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.name == key, LoginAttempt.ip == ip, LoginAttempt.ok.is_(True))
    )
    pair_since = max(since, last_ok) if last_ok else since
    return max(
        _wait(session, FREE_FAILURES, pair_since, now, LoginAttempt.name == key, LoginAttempt.ip == ip),
        _wait(session, FREE_FAILURES_PER_ADDRESS, since, now, LoginAttempt.ip == ip),
    )


def known_account(session: Session, name: str | None) -> str | None:
    """``name`` when an account has exactly that name, else None: what an
    audit event of a failed login may record of the name typed."""
    text = name or ""
    if text != login_text(text)[:120] or not NAME_RE.match(text):
        return None
    return text if get_user(session, text) is not None else None


def authenticate(session: Session, name: str, password: str, ip: str, *, secret: bytes, now: datetime.datetime | None = None) -> User | None:
    """The active user with this name and password, or None; every checked
    attempt is recorded (``attempt_key``). Raises TooManyAttempts, without
    checking the password, while the (account, address) pair or the address
    must wait (``login_wait``): an attacker is slowed down, the owner at
    another address is not, and the right password after the wait gets in.
    The attempts live in SQL, so this holds across server processes."""
    given = name or ""
    name = login_text(given)[:120]
    now = now or utcnow()
    ip = ip[:64]
    # A name with text no account can have is never looked up (and never
    # "cleaned" into a real name): the attempt fails and is recorded.
    user = get_user(session, name) if name == given and NAME_RE.match(name) else None
    key = attempt_key(given, user, secret)
    wait = login_wait(session, key, ip, now)
    if wait:
        raise TooManyAttempts(wait)
    password = password or ""
    if not password.isprintable() or any(0xD800 <= ord(ch) <= 0xDFFF for ch in password):
        password = ""  # not a password anyone could have set: checked (for timing) and refused
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password) and bool(password)
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(name=key, ip=ip, ok=ok, at=now))
    if ok:  # attempts older than the window count for nothing: drop them
        session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - WINDOW))
    session.commit()
    return user if ok else None
