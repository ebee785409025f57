"""``isu-ledger registry``: the staff's part of the registry of States Parties."""

from __future__ import annotations

import click

from app.cli.base import Environment, load, pass_env


@click.group()
def registry() -> None:
    """States Parties and other contributors."""


@registry.command()
@click.argument("iso3", metavar="ISO3")
@click.argument("language", metavar="LANG")
@pass_env
def language(env: Environment, iso3: str, language: str) -> None:
    """Set the working language of a State's letters (en, fr or es)."""
    from ledger.registry_language import set_language

    load(env)
    commit = set_language(env.ledger_dir, iso3, language, env.user)
    iso3, language = iso3.strip().upper(), language.strip().lower()
    if commit is None:
        click.echo(f"{iso3}: letters already in {language}; nothing written")
    else:
        click.echo(f"{iso3}: letters in {language} (commit {commit[:12]})")
