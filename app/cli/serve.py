"""``isu-ledger serve``: the web app, with Fava at /fava/."""

from __future__ import annotations

import os

import click

from app.cli.base import Environment, Refused, pass_env


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5000, show_default=True)
@pass_env
def serve(env: Environment, host: str, port: int) -> None:
    """Run the web app (Fava at /fava/) until interrupted.

    ISU_DATABASE_URL picks the database (default: SQLite in the ledger
    directory), ISU_SECRET_KEY the session key (default: a random key kept in
    the ledger's git-ignored .isu-secret)."""
    from werkzeug.serving import run_simple

    from app.web import create_wsgi
    from app.web.serving import server_config
    from ledger.conventions import MAIN_FILE

    if not (env.ledger_dir / MAIN_FILE).is_file():
        raise Refused(f"{env.ledger_dir}: no ledger here (run 'isu-ledger init' first)")
    application = create_wsgi(server_config(env.ledger_dir, host, os.environ))
    click.echo(f"isu-ledger: serving {env.ledger_dir} on http://{host}:{port}/ (Fava at /fava/)", err=True)
    run_simple(host, port, application, use_reloader=False, threaded=True)
