"""What every ``isu-ledger`` command shares: its context and its errors."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

PROG = "isu-ledger"
REPORT_NAMES = ("contributions", "annual", "budget", "buffer", "statement", "pack")
ROLES = ("admin", "finance", "auditor", "committee")


@dataclass
class Context:
    """What every command gets besides its arguments: where the books are,
    who acts (commit author) and where output goes."""

    ledger_dir: Path
    user: str
    stdout: TextIO
    stderr: TextIO

    def error(self, message: str) -> None:
        print(f"{PROG}: {message}", file=self.stderr)


Command = Callable[[argparse.Namespace, Context], int]


class UsageError(Exception):
    """Bad command-line usage; exits 2 with one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like every other error
        raise UsageError(message)


def _year(text: str) -> int:
    if not (text.isdigit() and len(text) == 4):
        raise argparse.ArgumentTypeError(f"{text}: not a year (YYYY)")
    return int(text)
