"""Users page (admins): the accounts, add one (name, role, full name,
password), disable one, reset a password, set a full name. The same
``app.web.users`` functions as ``isu-ledger user ...``, so the rules
(password length, roles, an auditor's full name) hold whichever way in;
every change and every refusal is in the audit log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.roles import ROLES
from app.web.audit import record
from app.web.auth import current_user, db, require
from app.web.db import User
from app.web.users import UserError, add_user, disable_user, set_full_name, set_password

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.get("/")
@require("users")
def index():
    rows = db().scalars(select(User).order_by(User.active.desc(), User.name)).all()
    return render_template("users.html", rows=rows, roles=ROLES)


def _change(action: str, name: str, change, done: str):
    """Run ``change()`` (a ``users`` function); audit and flash the outcome."""
    try:
        change()
        db().commit()
    except UserError as exc:
        db().rollback()
        record(action, "refused", str(exc) if str(exc).startswith(f"{name}:") else f"{name}: {exc}")
        flash(str(exc), "error")
    else:
        record(action, "ok", done)
        flash(done[:1].upper() + done[1:] + ".", "ok")
    return redirect(url_for("users.index"), 303)


@bp.post("/add")
@require("users")
def add():
    form = request.form
    name, role = form.get("name", "").strip(), form.get("role", "")
    return _change("user.add", name, lambda: add_user(db(), name, role, form.get("password", ""), form.get("full_name")),
                   f"user {name} added ({role})")


@bp.post("/<name>/disable")
@require("users")
def disable(name: str):
    def change():
        if name == current_user().name:
            raise UserError("you cannot disable your own account (another admin can)")
        disable_user(db(), name)

    return _change("user.disable", name, change, f"user {name} disabled; their sessions ended")


@bp.post("/<name>/password")
@require("users")
def password(name: str):
    return _change("user.password", name, lambda: set_password(db(), name, request.form.get("password", "")),
                   f"password of {name} reset; their sessions ended (the account is enabled)")


@bp.post("/<name>/full-name")
@require("users")
def full_name(name: str):
    return _change("user.full_name", name, lambda: set_full_name(db(), name, request.form.get("full_name")),
                   f"full name of {name} set")
