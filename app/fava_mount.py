"""Fava, mounted read-only for auditors.

Fava's own ``read_only`` mode disables its editor and upload endpoints; the
ledger files are written only by ``ledger.writer``. Fava watches the files and
reloads on change, so new imports are visible without a restart.
"""

from __future__ import annotations

from pathlib import Path

from fava.application import create_app as fava_create_app
from flask import Flask

from ledger.conventions import MAIN_FILE


def create_fava(ledger_dir: Path) -> Flask:
    return fava_create_app([Path(ledger_dir) / MAIN_FILE], load=True, read_only=True)
