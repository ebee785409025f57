"""The command line at a real terminal: a child process whose standard input
and standard error are a pseudo-terminal (standard output stays a pipe)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

from common.books import REPO, git_env


class Terminal:
    """``isu-ledger --ledger DIR args...`` at a terminal of its own: ``expect``
    what it shows, ``type`` a line, ``close`` for (exit code, stdout, all shown).

    The child runs in a new session without a controlling terminal, so
    ``getpass`` reads the pseudo-terminal on its standard input, never the
    terminal the tests may have been started from."""

    def __init__(self, ledger_dir: Path, *args: str, timeout: float = 120):
        self.master, slave = os.openpty()
        self.deadline = time.monotonic() + timeout
        self.shown = b""
        self.cursor = 0  # expect() looks after what it found before
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "--ledger", str(ledger_dir), *args],
            cwd=REPO, env=git_env(), stdin=slave, stdout=subprocess.PIPE, stderr=slave, start_new_session=True,
        )
        os.close(slave)

    def _read(self) -> bool:
        """Read what the terminal shows next; False once the child let go of it."""
        ready, _, _ = select.select([self.master], [], [], max(0.0, self.deadline - time.monotonic()))
        if not ready:
            raise TimeoutError(f"the terminal showed {self.shown!r}")
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: no process holds the terminal any more
            return False
        self.shown += chunk
        return bool(chunk)

    def expect(self, text: str) -> None:
        """Wait until the terminal shows ``text`` (after what was expected before)."""
        while (found := self.shown.find(text.encode(), self.cursor)) < 0:
            if not self._read():
                raise AssertionError(f"{text!r} never shown; the terminal showed {self.shown!r}")
        self.cursor = found + len(text.encode())

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def close(self) -> tuple[int, str, str]:
        while self._read():
            pass
        os.close(self.master)
        out = self.proc.stdout.read().decode()
        self.proc.stdout.close()
        return self.proc.wait(timeout=max(1.0, self.deadline - time.monotonic())), out, self.shown.decode()
