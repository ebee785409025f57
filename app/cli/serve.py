"""``isu-ledger serve``: the web app, with Fava at /fava/, through gunicorn."""

from __future__ import annotations

import os

import click

from app.cli.base import Environment, Refused, pass_env

COUNT = click.IntRange(1, 64)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5000, show_default=True)
@click.option("--workers", type=COUNT, default=2, show_default=True, envvar="ISU_WORKERS",
              help="worker processes: one per core ($ISU_WORKERS)")
@click.option("--threads", type=COUNT, default=4, show_default=True, envvar="ISU_THREADS",
              help="threads per worker, for requests that wait on git or the database ($ISU_THREADS)")
@pass_env
def serve(env: Environment, host: str, port: int, workers: int, threads: int) -> None:
    """Run the web app (Fava at /fava/) through gunicorn until interrupted.

    The access log goes to standard output. ISU_DATABASE_URL picks the
    database (default: SQLite in the ledger directory), ISU_SECRET_KEY the
    session key (default: a random key kept in the ledger's git-ignored
    .isu-secret), ISU_TRUSTED_PROXIES how many reverse proxies in front
    of the app add X-Forwarded-For/-Proto entries to believe (default 0)."""
    from app.web.serving import Server, migrate, server_config
    from ledger.conventions import MAIN_FILE

    if not (env.ledger_dir / MAIN_FILE).is_file():
        raise Refused(f"{env.ledger_dir}: no ledger here (run 'isu-ledger init' first)")
    config = server_config(env.ledger_dir, host, os.environ)
    migrate(config["DATABASE_URL"])  # once, here, before the workers start
    click.echo(f"isu-ledger: serving {env.ledger_dir} on http://{host}:{port}/ (Fava at /fava/), "
               f"{workers} worker(s) x {threads} thread(s)", err=True)
    Server(config, host=host, port=port, workers=workers, threads=threads).run()
