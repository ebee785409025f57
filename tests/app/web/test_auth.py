"""Login, sessions, CSRF and accounts: hashed passwords, secure cookies,
rate limiting, no default password, refusals without a token."""

from __future__ import annotations

import datetime

import pytest
from common.terminal import Terminal
from sqlalchemy import select

from app.web.db import AuditEvent, User, WebSession


def test_a_fresh_database_has_no_account(make_app, login, ledger, database_url):

    application = make_app(ledger, database_url)
    with application.extensions["isu_db"]() as s:
        assert s.scalars(select(User)).all() == []
    assert login(application.test_client(), "admin", "admin").status_code == 401


def test_passwords_are_hashed_and_login_sets_a_hardened_cookie(password, login, app):
    with app.extensions["isu_db"]() as s:
        stored = s.scalars(select(User).where(User.name == "finance")).one().password_hash
    assert password not in stored and stored.startswith("scrypt:")
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    response = login(client, "finance")
    assert response.status_code == 302
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("isu_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_wrong_password_is_refused_and_logged(login, app):
    client = app.test_client()
    assert login(client, "finance", "not the password").status_code == 401
    assert client.get("/").status_code == 302
    with app.extensions["isu_db"]() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "login")).one()
    assert event.outcome == "refused" and "finance" in event.detail


def _login_from(app, address: str, name: str, password: str, **headers):
    """A login form posted from ``address`` (a fresh browser)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = client.get("/api/csrf").get_json()["csrf_token"]
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token}, headers=headers)


def _failures(app, name: str, address: str, count: int, seconds_ago: int = 0) -> None:
    """``count`` failed logins of ``name`` from ``address`` (an attacker's
    history), the last ``seconds_ago`` seconds ago."""
    from app.web.db import LoginAttempt, utcnow

    at = utcnow() - datetime.timedelta(seconds=seconds_ago)
    with app.extensions["isu_db"]() as s:
        s.add_all(LoginAttempt(name=name, ip=address, ok=False, at=at) for _ in range(count))
        s.commit()


def test_login_delays_grow_after_five_failures_up_to_a_cap():
    from app.web.users import MAX_DELAY, delay_after

    delays = [delay_after(n, 5).total_seconds() for n in range(17)]
    assert delays == [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert delay_after(10**6, 5) == MAX_DELAY


def test_wrong_passwords_slow_that_address_without_locking_the_owner_out(app, password):
    """Twelve failures of finance from 203.0.113.9 (the last delay: 128 s):
    that address waits, with the right password too; another address gets
    in at once; after the delay the right password gets in from there too."""
    _failures(app, "finance", "203.0.113.9", 12)
    r = _login_from(app, "203.0.113.9", "finance", password)
    assert r.status_code == 429 and 120 <= int(r.headers["Retry-After"]) <= 128
    assert "too many failed logins; try again in" in r.get_data(as_text=True)
    assert _login_from(app, "198.51.100.7", "finance", password).status_code == 302
    assert _login_from(app, "203.0.113.9", "auditor", password).status_code == 302  # other accounts there too
    with app.extensions["isu_db"]() as s:
        from app.web.db import LoginAttempt

        for row in s.scalars(select(LoginAttempt).where(LoginAttempt.ip == "203.0.113.9", LoginAttempt.ok.is_(False))):
            row.at -= datetime.timedelta(seconds=130)
        s.commit()
    assert _login_from(app, "203.0.113.9", "finance", password).status_code == 302


def test_the_api_login_is_throttled_the_same_way(app, password, csrf):
    _failures(app, "committee", "127.0.0.1", 9)  # the test client's address; last delay 16 s
    client = app.test_client()
    r = client.post("/api/login", json={"name": "committee", "password": password}, headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 429 and r.get_json()["error"].startswith("too many failed logins") and r.headers["Retry-After"]


def test_password_spraying_from_one_address_is_slowed_for_every_name(app, password):
    for n in range(25):  # the last delay: 32 s
        _failures(app, f"?{n:02x}", "203.0.113.9", 1)
    assert _login_from(app, "203.0.113.9", "committee", password).status_code == 429
    assert _login_from(app, "198.51.100.7", "committee", password).status_code == 302


def test_a_success_forgives_the_failures_of_that_address(app, password):
    from app.web.db import LoginAttempt

    _failures(app, "finance", "203.0.113.9", 10)  # the last delay: 32 s
    assert _login_from(app, "203.0.113.9", "finance", password).status_code == 429
    with app.extensions["isu_db"]() as s:
        for row in s.scalars(select(LoginAttempt)):
            row.at -= datetime.timedelta(seconds=40)
        s.commit()
    assert _login_from(app, "203.0.113.9", "finance", password).status_code == 302
    # After the success the pair starts afresh: a failure costs no wait.
    assert _login_from(app, "203.0.113.9", "finance", "wrong password, again").status_code == 401
    assert _login_from(app, "203.0.113.9", "finance", password).status_code == 302


def test_names_that_are_no_account_are_throttled_like_accounts(app, password):
    """No answer tells which names are accounts: five failures of a name
    that does not exist make that name wait exactly like an account's."""
    from app.web.db import LoginAttempt
    from app.web.users import attempt_key

    for name in ("finance", "no-such-user"):
        for _ in range(5):
            assert _login_from(app, "203.0.113.9", name, "wrong password here").status_code == 401
        key = "finance" if name == "finance" else attempt_key(name, None, app.secret_key.encode())
        with app.extensions["isu_db"]() as s:
            assert len(s.scalars(select(LoginAttempt).where(LoginAttempt.name == key)).all()) == 5
        _failures(app, key, "203.0.113.9", 4)  # nine failures: the last delay is 16 s
        assert _login_from(app, "203.0.113.9", name, password).status_code == 429
    assert _login_from(app, "203.0.113.9", "auditor", password).status_code == 302  # 18 failures from there: under 20


def test_x_forwarded_for_counts_only_through_trusted_proxies(make_app, add_users, ledger, database_url, password):
    """Behind one trusted proxy (ISU_TRUSTED_PROXIES=1) the client address is
    the proxy's X-Forwarded-For entry, so users behind it are told apart; with
    the default 0 a forged header changes nothing."""
    behind = make_app(ledger, database_url, TRUSTED_PROXIES=1)
    add_users(behind, ("finance",))
    _failures(behind, "finance", "203.0.113.9", 12)
    assert _login_from(behind, "10.0.0.2", "finance", password, **{"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    assert _login_from(behind, "10.0.0.2", "finance", password, **{"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}).status_code == 302
    direct = make_app(ledger, database_url)
    _failures(direct, "finance", "192.0.2.1", 12)
    assert _login_from(direct, "192.0.2.1", "finance", password, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 429


def test_trusted_proxies_come_from_the_environment(ledger):
    from app.web.serving import server_config

    assert server_config(ledger, "127.0.0.1", {})["TRUSTED_PROXIES"] == 0
    assert server_config(ledger, "127.0.0.1", {"ISU_TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
    for bad in ("-1", "one", "99", "１"):
        with pytest.raises(ValueError, match="ISU_TRUSTED_PROXIES"):
            server_config(ledger, "127.0.0.1", {"ISU_TRUSTED_PROXIES": bad})


def test_next_only_goes_to_this_site(password, csrf, app):
    client = app.test_client()
    for target, expected in (("/review/", "/review/"), ("https://evil.example/", "/"), ("//evil.example", "/")):
        token = csrf(client)  # a login starts a new session (and token)
        r = client.post(f"/login?next={target}", data={"name": "finance", "password": password, "csrf_token": token})
        assert r.headers["Location"] == expected


def test_disabling_or_changing_the_password_ends_sessions(login, logged_in, app):
    from app.web.users import disable_user, set_password

    client = logged_in(app, "finance")
    assert client.get("/review/").status_code == 200
    with app.extensions["isu_db"]() as s:
        set_password(s, "finance", "another long password")
        s.commit()
    assert client.get("/review/").status_code == 302
    client = logged_in(app, "auditor")
    with app.extensions["isu_db"]() as s:
        disable_user(s, "auditor")
        s.commit()
    assert client.get("/").status_code == 302
    assert login(app.test_client(), "auditor").status_code == 401


def _copy(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("isu_session", client.get_cookie("isu_session").value)
    return thief


def _sessions(app) -> list[WebSession]:
    with app.extensions["isu_db"]() as s:
        return s.scalars(select(WebSession).order_by(WebSession.id)).all()


def test_logging_out_ends_the_session_even_for_a_copy_of_its_cookie(csrf, logged_in, app):
    client = logged_in(app, "finance")
    thief = _copy(app, client)
    cookie = client.get_cookie("isu_session").value
    assert thief.get("/review/").status_code == 200  # a copied cookie works while the session is open
    assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 302
    assert client.get("/review/").status_code == 302
    assert thief.get("/review/").status_code == 302  # ... and not after: the server ended it
    assert thief.get("/api/me").status_code == 401
    (row,) = _sessions(app)
    assert row.ended_at is not None
    # The row holds only a hash of the token the cookie carries.
    payload = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert payload["sid"] and payload["sid"] != row.token_hash and len(row.token_hash) == 64


def test_api_logout_ends_the_session_too(password, csrf, app):
    client = app.test_client()
    r = client.post("/api/login", json={"name": "auditor", "password": password}, headers={"X-CSRFToken": csrf(client)})
    token = r.get_json()["csrf_token"]
    thief = _copy(app, client)
    assert thief.get("/api/me").status_code == 200
    assert client.post("/api/logout", headers={"X-CSRFToken": token}).status_code == 200
    assert thief.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 401


def test_each_login_is_its_own_session(csrf, logged_in, app):
    """Two browsers of one user: logging out of one leaves the other open;
    an expired session row is refused by the server whatever the cookie says;
    disabling the account ends every row."""
    from app.web.users import disable_user

    first, second = logged_in(app, "committee"), logged_in(app, "committee")
    assert first.post("/logout", data={"csrf_token": csrf(first)}).status_code == 302
    assert second.get("/").status_code == 200
    assert [row.ended_at is None for row in _sessions(app)] == [False, True]
    third = logged_in(app, "committee")  # a new login clears the ended row out
    assert [row.ended_at is None for row in _sessions(app)] == [True, True]
    with app.extensions["isu_db"]() as s:
        row = s.scalars(select(WebSession).order_by(WebSession.id)).first()
        row.created_at -= app.permanent_session_lifetime + datetime.timedelta(minutes=1)
        s.commit()
    assert second.get("/").status_code == 302  # older than the session lifetime
    assert third.get("/").status_code == 200
    with app.extensions["isu_db"]() as s:
        disable_user(s, "committee")
        s.commit()
    assert all(row.ended_at is not None for row in _sessions(app))


@pytest.mark.parametrize("path,data", [
    ("/review/", {"only": "x"}),
    ("/import/", {}),
    ("/year-end/close", {"year": "2025"}),
    ("/registry/alias", {"iso3": "SVK", "alias": "Slovak Treasury"}),
    ("/logout", {}),
])
def test_forms_without_a_csrf_token_are_refused(logged_in, head, app, ledger, path, data):
    client = logged_in(app, "admin")
    before = head(ledger)
    for token in (None, "forged-token"):
        form = dict(data, **({"csrf_token": token} if token else {}))
        response = client.post(path, data=form)
        assert response.status_code == 400, path
        assert "CSRF" in response.get_data(as_text=True)
    assert head(ledger) == before
    assert client.get("/").status_code == 200  # still logged in (logout was refused)


@pytest.mark.parametrize("path,body", [
    ("/api/review/resolve", {"items": [{"id": "x", "state_party": "SVK", "year": 2025}]}),
    ("/api/registry/SVK/aliases", {"alias": "Slovak Treasury"}),
    ("/api/year-end/2025/close", {}),
    ("/api/login", {"name": "admin", "password": "refused before it is read"}),
])
def test_api_calls_without_a_csrf_header_are_refused(logged_in, head, app, ledger, path, body):
    client = logged_in(app, "admin")
    before = head(ledger)
    response = client.post(path, json=body)
    assert response.status_code == 400
    assert "CSRF" in response.get_json()["error"]
    assert client.post(path, json=body, headers={"X-CSRFToken": "forged"}).status_code == 400
    assert head(ledger) == before


def test_api_login_with_token(password, csrf, app):
    client = app.test_client()
    assert client.get("/api/me").status_code == 401
    r = client.post("/api/login", json={"name": "committee", "password": password}, headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 200 and r.get_json()["role"] == "committee"
    assert client.get("/api/me").get_json() == {"name": "committee", "role": "committee"}


@pytest.mark.parametrize("name, typed", [
    ("fin\x00ance", "{}"),  # NUL: PostgreSQL text refuses it
    ("\udb53finance", "{}"),  # a lone surrogate: not encodable as UTF-8
    ("finance", "pass\x00word"),
    ("finance", "\ud800{}"),
])
def test_login_with_unstorable_text_is_a_plain_refusal(csrf, app, password, name, typed):
    """Found by schemathesis on PostgreSQL: such a login was a 500 ({} is the account's password)."""
    client = app.test_client()
    r = client.post("/api/login", json={"name": name, "password": typed.format(password)}, headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 401
    assert client.get("/api/me").status_code == 401


def test_user_commands(cli, make_app, login, ledger, database_url, monkeypatch):

    monkeypatch.setenv("ISU_DATABASE_URL", database_url)
    assert cli(ledger, "user", "add", "alice", "--role", "finance", stdin="a long enough password\n")[:2] == (0, "user alice: added (finance)\n")
    code, _, err = cli(ledger, "user", "add", "alice", "--role", "finance", stdin="a long enough password\n")
    assert code == 2 and "exists already" in err
    code, _, err = cli(ledger, "user", "add", "bob", "--role", "finance", stdin="short\n")
    assert code == 2 and "too short" in err
    app = make_app(ledger, database_url)
    assert login(app.test_client(), "alice", "a long enough password").status_code == 302
    assert cli(ledger, "user", "passwd", "alice", stdin="the new long password\n")[0] == 0
    assert login(app.test_client(), "alice", "a long enough password").status_code == 401
    assert login(app.test_client(), "alice", "the new long password").status_code == 302
    assert cli(ledger, "user", "disable", "alice")[1] == "user alice: disabled\n"
    assert login(app.test_client(), "alice", "the new long password").status_code == 401
    code, _, err = cli(ledger, "user", "disable", "nobody")
    assert code == 2 and "no such user" in err


def test_user_add_at_a_terminal_asks_twice_and_never_shows_the_password(ledger, database_url, monkeypatch, make_app, login):
    """At a terminal the password is typed twice, hidden; two that differ are asked again."""
    monkeypatch.setenv("ISU_DATABASE_URL", database_url)
    term = Terminal(ledger, "user", "add", "dora", "--role", "finance")
    term.expect("New password: ")
    term.type("a long enough password")
    term.expect("Repeat it: ")
    term.type("a different long password")
    term.expect("do not match")
    term.expect("New password: ")
    term.type("a long enough password")
    term.expect("Repeat it: ")
    term.type("a long enough password")
    code, out, shown = term.close()
    assert (code, out) == (0, "user dora: added (finance)\n"), shown
    assert "long" not in shown
    assert login(make_app(ledger, database_url).test_client(), "dora", "a long enough password").status_code == 302


def test_user_commands_default_to_sqlite_in_the_ledger(cli, ledger, monkeypatch):
    monkeypatch.delenv("ISU_DATABASE_URL", raising=False)
    assert cli(ledger, "user", "add", "carol", "--role", "auditor", "--full-name", "Carol Roe", stdin="a long enough password\n")[0] == 0
    assert (ledger / "isu-ledger.sqlite3").is_file()
    from ledger.store import gitrepo

    assert gitrepo.status(ledger) == []  # git-ignored: the books stay clean


def test_serve_config_keeps_a_secret_and_secures_cookies_off_loopback(ledger):
    from app.web.serving import server_config

    first = server_config(ledger, "127.0.0.1", {})
    assert first["SECRET_KEY"] == server_config(ledger, "127.0.0.1", {})["SECRET_KEY"]
    assert (ledger / ".isu-secret").stat().st_mode & 0o077 == 0
    assert first["SESSION_COOKIE_SECURE"] is False
    assert server_config(ledger, "0.0.0.0", {})["SESSION_COOKIE_SECURE"] is True
    assert server_config(ledger, "0.0.0.0", {"ISU_SECRET_KEY": "k" * 40})["SECRET_KEY"] == "k" * 40
    assert server_config(ledger, "127.0.0.1", {"ISU_DATABASE_URL": "postgresql://x/y"})["DATABASE_URL"] == "postgresql://x/y"


def _session_cookie(app, data: dict, secret: str) -> str:
    """A session cookie as Flask would sign it with ``secret``."""
    from flask import Flask

    other = Flask("forger")
    other.config.update(SECRET_KEY=secret)
    return app.session_interface.get_signing_serializer(other).dumps(data)


def test_another_users_session_cannot_be_forged_or_edited(login, app):
    """Auth bypass attempts: a session naming another user's id, signed with
    a guessed key, or a real cookie whose signed payload was edited."""
    with app.extensions["isu_db"]() as s:
        admin = s.scalars(select(User).where(User.name == "admin")).one()
    from app.web.users import session_stamp

    forged = _session_cookie(app, {"uid": admin.id, "stamp": session_stamp(admin)}, "guessed-key")
    client = app.test_client()
    client.set_cookie("isu_session", forged)
    assert client.get("/api/me").status_code == 401

    client = app.test_client()
    assert login(client, "committee").status_code == 302
    real = client.get_cookie("isu_session").value
    payload, rest = real.split(".", 1)
    edited = ("e" if payload[0] != "e" else "f") + payload[1:] + "." + rest
    intruder = app.test_client()
    intruder.set_cookie("isu_session", edited)
    assert intruder.get("/api/me").status_code == 401
    # The genuine cookie of one user never grants another user's role.
    assert client.get("/api/me").get_json() == {"name": "committee", "role": "committee"}


def test_secrets_are_never_logged(password, csrf, login, app, caplog):
    """Passwords, the session secret and session cookies appear in no log
    record and no audit event, whatever happens at login."""
    import logging

    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    assert login(client, "finance", "wrong " + password).status_code == 401
    assert login(client, "finance").status_code == 302
    cookie = client.get_cookie("isu_session").value
    client.post("/api/login", json={"name": "admin", "password": "x" + password}, headers={"X-CSRFToken": csrf(client)})
    secrets = (password, app.config["SECRET_KEY"], cookie)
    logged = caplog.text
    with app.extensions["isu_db"]() as s:
        audit_text = " ".join(f"{e.user_name} {e.detail}" for e in s.scalars(select(AuditEvent)))
    assert audit_text  # the attempts were recorded...
    for secret in secrets:  # ...without any secret
        assert secret not in logged and secret not in audit_text


def test_a_failed_login_keeps_the_name_only_when_it_is_an_account(app, password, csrf, login):
    """A password typed into the name field is never stored: not in the
    audit log, not in the login attempts - on the form, the API and when
    throttled. A failed login of an existing account names it."""
    from app.web.db import LoginAttempt
    from app.web.users import attempt_key

    typed = "Tr0ub4dor&3 typed in the wrong field"
    client = app.test_client()
    assert login(client, typed, "x").status_code == 401
    r = client.post("/api/login", json={"name": typed, "password": "x"}, headers={"X-CSRFToken": csrf(client)})
    assert r.status_code == 401
    _failures(app, attempt_key(typed, None, app.secret_key.encode()), "127.0.0.1", 12)
    assert login(client, typed, "x").status_code == 429
    assert login(client, "finance", "not the password").status_code == 401
    with app.extensions["isu_db"]() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "login").order_by(AuditEvent.id)).all()
        attempts = s.scalars(select(LoginAttempt)).all()
    stored = " ".join(f"{e.user_name} {e.detail}" for e in events) + " ".join(a.name for a in attempts)
    assert "Tr0ub4dor" not in stored
    assert [(e.user_name, e.detail.split(";")[0]) for e in events] == [
        (None, "unknown account: wrong name or password"),
        (None, "unknown account: wrong name or password"),
        (None, "unknown account: too many failed logins"),
        ("finance", "finance: wrong name or password"),
    ]
    assert {a.name for a in attempts} == {attempt_key(typed, None, app.secret_key.encode()), "finance"}


def test_the_migration_forgets_names_typed_before(tmp_path):
    """Books upgraded from before 0004: what failed logins typed as a name
    is kept only where it is an account."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from app.web.db import MIGRATIONS, make_engine, open_database

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        conn.execute(text("INSERT INTO users (name, role, password_hash, active, created_at, password_changed_at) "
                          "VALUES ('finance', 'finance', 'x', 1, '2026-01-01', '2026-01-01')"))
        for name in ("finance", "s3cret-password"):
            conn.execute(text("INSERT INTO login_attempts (name, ip, at, ok) VALUES (:n, '1.2.3.4', '2026-01-01', 0)"), {"n": name})
        for user, detail in (("finance", "finance: wrong name or password"),
                             ("s3cret-password", "s3cret-password: wrong name or password"),
                             ("s3cret-password", "s3cret-password: too many failed logins; try again in 15 minutes"),
                             ("finance", "s3cret-password: wrong name or password")):  # typed while logged in
            conn.execute(text("INSERT INTO audit_events (at, user_name, action, outcome, detail) "
                              "VALUES ('2026-01-01', :u, 'login', 'refused', :d)"), {"u": user, "d": detail})
    engine.dispose()
    open_database(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        names = [n for (n,) in conn.execute(text("SELECT name FROM login_attempts ORDER BY id"))]
        events = conn.execute(text("SELECT user_name, detail FROM audit_events ORDER BY id")).all()
    engine.dispose()
    assert names == ["finance", "?"]
    assert [tuple(e) for e in events] == [
        ("finance", "finance: wrong name or password"),
        (None, "unknown account: wrong name or password"),
        (None, "unknown account: too many failed logins; try again in 15 minutes"),
        ("finance", "unknown account: wrong name or password"),
    ]


def test_the_sqlite_database_and_its_journal_are_private(cli, ledger, monkeypatch, tmp_path):
    """The database holds password and session hashes and the audit log:
    created 0600 (its journal too, whatever the umask), and a file left
    world-readable by an earlier version is tightened when opened."""
    import os
    import sqlite3

    from app.web.db import open_database

    monkeypatch.delenv("ISU_DATABASE_URL", raising=False)
    old_umask = os.umask(0o022)
    try:
        assert cli(ledger, "user", "add", "fin", "--role", "finance", stdin="a long enough password\n")[0] == 0
        path = ledger / "isu-ledger.sqlite3"
        assert path.stat().st_mode & 0o777 == 0o600
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("UPDATE users SET full_name = 'x'")
        journal = path.with_name(path.name + "-journal")
        assert journal.stat().st_mode & 0o777 == 0o600  # exists while the transaction is open
        raw.execute("ROLLBACK")
        raw.close()
        loose = tmp_path / "loose.sqlite3"
        sqlite3.connect(loose).close()
        os.chmod(loose, 0o644)
        open_database(f"sqlite:///{loose}")
        assert loose.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old_umask)


def test_serve_refuses_a_bad_trusted_proxies_setting_in_one_line(cli, ledger, monkeypatch):
    monkeypatch.setenv("ISU_TRUSTED_PROXIES", "all")
    code, out, err = cli(ledger, "serve", "--host", "203.0.113.1", "--port", "5999")  # never bindable: no server starts
    assert (code, out) == (2, "") and err == "isu-ledger: ISU_TRUSTED_PROXIES='all': the number of reverse proxies in front of the app (0 to 10)\n"
