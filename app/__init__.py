"""The web application: a Flask app for staff, with Fava mounted read-only.

Part 1 ships the shell: a status page over the books and Fava at ``/fava/``.
Login, roles, import, review and reports come with part 5; until then the
server binds to 127.0.0.1 only (see ``isu-ledger serve``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` must name ``LEDGER_DIR``; nothing is read from
    the environment here (configuration flows in from the top)."""
    app = Flask(__name__)
    app.config.update(config or {})
    if "LEDGER_DIR" not in app.config:
        raise ValueError("create_app needs LEDGER_DIR")
    app.config["LEDGER_DIR"] = Path(app.config["LEDGER_DIR"]).resolve()

    from app.status import bp as status_bp

    app.register_blueprint(status_bp)
    return app


def create_wsgi(config: dict[str, Any]):
    """The served application: our app at ``/`` and Fava (read-only) at ``/fava``."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from app.fava_mount import create_fava

    app = create_app(config)
    fava = create_fava(app.config["LEDGER_DIR"])
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/fava": fava.wsgi_app})  # type: ignore[method-assign]
    return app
