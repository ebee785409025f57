"""``isu-ledger``: the command line, a click group over the ledger's functions.

The commands, their arguments, exit codes and JSON are a contract users
and scripts rely on (exit 0 done; 1 ``check`` found errors; 2 bad input or
refused). Each family of commands is one module here; this one holds the
group and ``main``, the console script.

Whatever a user can get wrong - usage, a file, a refused write - ends as one
line per problem on standard error, ``isu-ledger: <file>: <problem>``, and
exit 2: never a usage banner, never a traceback. Only a bug raises.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli import backup, books, demo, finance, letters, registry, reports, review, serve, users, yearend
from app.cli.base import PROG, Environment, Refused, as_refusal, default_user


class _Shell(click.Group):
    """The ``isu-ledger`` group: turns every expected failure into ``Refused``
    lines and every click error into one line, with its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            env = ctx.find_object(Environment)
            refusal = as_refusal(exc, env.ledger_dir if env else None)
            if refusal is None:
                raise
            raise refusal from exc

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra) -> int:
        """Run the command line; return the exit code (``standalone_mode``: exit with it)."""
        try:
            code = super().main(args, prog_name or PROG, complete_var, standalone_mode=False, **extra)
        except click.Abort:  # Ctrl-C, or the end of input at a prompt
            click.echo(f"{PROG}: interrupted", err=True)
            code = 130
        except Refused as exc:
            exc.show()
            code = exc.exit_code
        except click.exceptions.NoArgsIsHelpError as exc:  # a group without its command
            click.echo(f"{PROG}: missing command ('{exc.ctx.command_path} --help' lists them)", err=True)
            code = exc.exit_code
        except click.ClickException as exc:  # usage: unknown option, missing or bad value
            click.echo(f"{PROG}: {' '.join(exc.format_message().split())}", err=True)
            code = exc.exit_code
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(cls=_Shell, name=PROG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--ledger", "ledger_dir", metavar="DIR", envvar="ISU_LEDGER_DIR", default="books",
              type=click.Path(path_type=Path), help="ledger directory (default: $ISU_LEDGER_DIR, else ./books)")
@click.pass_context
def cli(ctx: click.Context, ledger_dir: Path) -> None:
    """The ISU finance and contributions ledger."""
    ctx.obj = Environment(ledger_dir=ledger_dir, user=default_user())


for _command in (
    books.init, books.check, books.parse, books.import_, books.import_undo, review.review, reports.report, yearend.close_year,
    yearend.sign_off, finance.pledge, finance.budget, finance.expenditure, finance.buffer, finance.in_kind, users.user,
    serve.serve, backup.backup, demo.demo, letters.letters, registry.registry,
):
    cli.add_command(_command)


def _ledger_after_command(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    env = ctx.find_object(Environment)
    if value is not None and env is not None:
        env.ledger_dir = value


def _accept_ledger_everywhere(group: click.Group) -> None:
    """``--ledger DIR`` is accepted after a command's name too (``isu-ledger check --ledger DIR``)."""
    for command in group.commands.values():
        command.params.append(click.Option(["--ledger"], metavar="DIR", type=click.Path(path_type=Path), hidden=True,
                                           expose_value=False, callback=_ledger_after_command))
        if isinstance(command, click.Group):
            _accept_ledger_everywhere(command)


_accept_ledger_everywhere(cli)


def main(argv: list[str] | None = None) -> int:
    """The console script ``isu-ledger``: run the command line, return its exit code."""
    return cli.main(argv, prog_name=PROG, standalone_mode=False)
