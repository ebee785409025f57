"""Login, logout, the current user and the permission check.

Sessions are Flask's signed cookie (HttpOnly, SameSite=Lax, Secure unless
served on loopback) holding the user id, a stamp of the password hash and
the token of a server-side session row (``WebSession``, stored hashed). A
request is logged in only while that row is open: logging out ends it, so
a copy of the cookie taken before is refused from then on; a password
change or a disabled account ends every session of the user. Every form
and state-changing API call carries a CSRF token (Flask-WTF's
CSRFProtect, set up in ``create_app``).
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.orm import Session

from app.web.db import User
from app.roles import allowed
from app.web.users import (
    TooManyAttempts,
    authenticate,
    end_session,
    known_account,
    open_session,
    session_open,
    session_stamp,
)

bp = Blueprint("auth", __name__)


def db() -> Session:
    """The request's database session (closed at the end of the request)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["isu_db"]()
    return g.db_session


def close_db(_exc=None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


def current_user() -> User | None:
    """The logged-in, active user whose password has not changed since login."""
    if "user" in g:
        return g.user
    user = None
    uid = session.get("uid")
    if isinstance(uid, int):
        candidate = db().get(User, uid)
        if (
            candidate is not None
            and candidate.active
            and session.get("stamp") == session_stamp(candidate)
            and session_open(db(), candidate, session.get("sid"), current_app.permanent_session_lifetime)
        ):
            user = candidate
    if user is None and uid is not None:
        session.clear()
    g.user = user
    return user


def client_ip() -> str:
    return request.remote_addr or "?"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def require(permission: str):
    """Decorator: 401/redirect to login when nobody is logged in, 403 when the
    user's role lacks ``permission``."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if wants_json():
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not allowed(user.role, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorate


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no '//' trick)."""
    if not target:
        return url_for("dashboard.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("dashboard.index")
    return target


def log_in(user: User) -> None:
    """Start a session of ``user`` (a new server-side row, a new cookie)."""
    session.clear()
    token = open_session(db(), user, client_ip(), current_app.permanent_session_lifetime)
    db().commit()
    session.permanent = True
    session["uid"] = user.id
    session["stamp"] = session_stamp(user)
    session["sid"] = token
    g.user = user


def log_out() -> None:
    """End this request's session: its server-side row and its cookie."""
    end_session(db(), session.get("sid"))
    db().commit()
    session.clear()
    g.user = None


@bp.route("/login", methods=["GET", "POST"])
def login():
    from app.web.audit import record

    status = 200
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        try:
            user = authenticate(db(), name, request.form.get("password", ""), client_ip(), secret=login_secret())
        except TooManyAttempts as exc:
            record_refused_login(name, str(exc))
            flash(str(exc), "error")
            response = current_app.make_response((render_template("login.html", name=name), 429))
            response.headers["Retry-After"] = str(exc.seconds)
            return response
        if user is not None:
            log_in(user)
            record("login", "ok", f"{user.name} ({user.role})")
            return redirect(safe_next(request.args.get("next")))
        record_refused_login(name, "wrong name or password")
        flash("Wrong user name or password.", "error")
        status = 401
    return render_template("login.html", name=request.form.get("name", "")), status


def login_secret() -> bytes:
    """The key of ``users.attempt_key`` (the app's secret key)."""
    key = current_app.secret_key
    return key if isinstance(key, bytes) else str(key).encode("utf-8")


def record_refused_login(name: str, reason: str) -> None:
    """Audit a refused login, naming the account only when it exists: what
    was typed as a name may be a password typed in the wrong field."""
    from app.web.audit import record

    account = known_account(db(), name)
    record("login", "refused", f"{account or 'unknown account'}: {reason}", user_name=account)


@bp.post("/logout")
def logout():
    from app.web.audit import record

    if current_user() is not None:
        record("logout", "ok", "")
    log_out()
    flash("You are logged out.", "ok")
    return redirect(url_for("auth.login"))
