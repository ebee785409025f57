"""Doing part of one big, pure job on the second core: in a forked child.

A command-line process (one command, no other thread, then it exits) that
parses a year of bank entries or prints a 20,000-entry batch spends seconds
of pure Python on one core while the other is idle. :func:`start` forks a
child that computes a part of the job and hands it back through a pipe as
plain data (``marshal``), while this process does the rest; the caller
collects it with :meth:`Helper.result` when it needs it. A streaming child
sends values as it computes them, and the caller takes them, between two
pieces of its own part, with :meth:`Helper.received`, so that making them
again here overlaps with the child's work instead of following it.

The result never depends on the fork. The child only computes: it writes
no file, and it leaves with ``os._exit`` (no atexit handlers, no flushed
buffers). Anything unexpected from it (it failed, died, or sent something
``decode`` refuses) and ``result`` (``received``) returns None: the caller
does that part itself, so an error is raised exactly as the one-core run
raises it.
Leaving the ``with`` block early (an exception) kills the child.

What the child needs should be built *after* the fork where it is big and
pointer-rich (an lxml tree): pages shared with a child are copied on the
first write by either process, and lxml writes into every node it hands
to Python, so walking a tree built before the fork costs twice as much.
Two processes that share one job in fixed halves finish apart when one is
held up; :class:`Chunks` lets them take chunks of it from either end.

Only when :data:`ENABLED` (set by the command line, for its own process)
and no other thread runs: a fork copies only the calling thread, so a lock
another thread held would stay locked in the child.
"""

from __future__ import annotations

import fcntl
import marshal
import mmap
import os
import signal
import struct
import threading
from collections.abc import Callable
from typing import Any

ENABLED = False  # set by a command-line process (see app.cli.main.main)


def usable(size: int, minimum: int) -> bool:
    """Whether a job of ``size`` (entries, bytes: the caller's measure) is worth a fork now."""
    return ENABLED and size >= minimum and hasattr(os, "fork") and threading.active_count() == 1


class Helper:
    """A forked child computing ``job()``; see the module docstring.

    The child sends values in frames (``_HEADER``, then the payload): any it
    sends while it works (a streaming job: :func:`start` with ``streaming``), then its
    end. The parent takes them with :meth:`received` as they come, or waits
    for the one value of a plain job with :meth:`result`.
    """

    def __init__(self, pid: int, read_end: int):
        self._pid: int | None = pid
        self._read_end = read_end
        self._buffer = bytearray()
        self._ended = False  # the end frame came
        self._failed = False

    def result(self, decode: Callable[[Any], Any]) -> Any:
        """What a plain job computed, through ``decode``; None if the child
        has nothing valid. Waits for the child; call it once."""
        values = self.received(lambda value: value, wait=True)
        if values is None or len(values) != 1:
            return None
        try:
            return decode(values[0])
        except Exception:  # noqa: BLE001 - the child failed: the caller does its part
            return None

    def received(self, decode: Callable[[Any], Any], *, wait: bool = False) -> list | None:
        """The values that came since the last call, each through ``decode``;
        with ``wait``, all of them up to the child's end. None, from then
        on, once anything was wrong: the child failed, died, ended early,
        or sent something ``decode`` refuses."""
        if self._failed:
            return None
        values = []
        try:
            for payload in self._frames(wait):
                values.append(decode(marshal.loads(payload)))  # our own child's bytes
        except Exception:  # noqa: BLE001 - the child failed: the caller does its part
            self._failed = True
        if (wait or self._pid is None) and not self._ended:  # it closed the pipe without its end: it died
            self._failed = True
        return None if self._failed else values

    def _frames(self, wait: bool):
        """Payloads of the whole frames that came (all, up to the end, with ``wait``)."""
        if self._pid is None:
            return
        os.set_blocking(self._read_end, wait)
        buffer = self._buffer
        while True:
            try:
                chunk = os.read(self._read_end, _READ_SIZE)
            except BlockingIOError:
                chunk = None
            if chunk:
                buffer += chunk
            at = 0
            while len(buffer) - at >= _HEADER.size:
                kind, size = _HEADER.unpack_from(buffer, at)
                if len(buffer) - at - _HEADER.size < size:
                    break
                start, at = at + _HEADER.size, at + _HEADER.size + size
                if kind == _END:
                    self._ended = True
                elif kind == _VALUE and not self._ended:
                    yield bytes(buffer[start:at])
                else:
                    raise ValueError("not a frame of ours")
            del buffer[:at]
            if chunk is None or chunk == b"":  # nothing more for now, or the child closed its end
                if chunk == b"":
                    os.close(self._read_end)
                    self._reap(wait=False)
                return

    def close(self) -> None:
        """Stop a child whose result is no longer wanted (idempotent)."""
        if self._pid is None:
            return
        try:
            os.kill(self._pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(self._read_end)
        self._reap(wait=True)

    def _reap(self, wait: bool) -> None:
        """Collect the child's exit; without ``wait``, only if it is over already.

        A child that has sent its result still has to give back its memory
        (a tenth of a second for a few hundred MB), so the caller does not
        wait for that: the child is collected by a later :func:`start`, or
        by init when this process ends.
        """
        pid, self._pid = self._pid, None
        if pid is None:
            return
        if wait:
            os.waitpid(pid, 0)
        elif os.waitpid(pid, os.WNOHANG)[0] == 0:
            _EXITING.append(pid)

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_EXITING: list[int] = []  # children that sent their result and were still exiting
# A frame: kind (a value, or the end) and payload size, then the payload (marshal).
_HEADER = struct.Struct("<BQ")
_VALUE, _END = 1, 2
_READ_SIZE = 1 << 20
# A pipe this big (Linux) lets a streaming child send several values before
# the parent next looks, instead of waiting for it.
_PIPE_SIZE = 1 << 20


def _collect_exited() -> None:
    for pid in list(_EXITING):
        try:
            done = os.waitpid(pid, os.WNOHANG)[0] != 0
        except ChildProcessError:
            done = True
        if done:
            _EXITING.remove(pid)


def start(job: Callable[..., Any], *, streaming: bool = False) -> Helper | None:
    """Fork a child computing ``job()`` (plain values, for ``marshal``);
    None when it cannot fork (the caller then does the whole job).

    With ``streaming``, the job is called with ``send``, which sends one
    value now (the parent takes them with :meth:`Helper.received`), and
    what it returns is not sent.
    """
    _collect_exited()
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        except OSError:
            pass  # a smaller pipe only means the child waits more
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: compute, send, never return
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as pipe:

                def send(value: Any) -> None:
                    payload = marshal.dumps(value)
                    pipe.write(_HEADER.pack(_VALUE, len(payload)))
                    pipe.write(payload)
                    pipe.flush()

                if streaming:
                    job(send)
                else:
                    send(job())
                pipe.write(_HEADER.pack(_END, 0))
        finally:
            os._exit(0)
    os.close(write_end)
    return Helper(pid, read_end)


class Chunks:
    """Numbered chunks of one job, taken by two processes from either end.

    Two processes given fixed halves finish apart when one of them is
    slowed (the other core busy with something else, the machine's
    neighbours): the wait is up to a third of the job. Here one takes chunks
    from the front (:meth:`front`), the other from the back (:meth:`back`),
    until they meet; every chunk is taken exactly once. The two counters
    live in a shared page, changed under a POSIX record lock (``lockf``),
    which the kernel releases if its holder dies. Made, with the number of
    chunks, before the fork (:meth:`create`).
    """

    _SIZE = 16  # front, back: two int64

    def __init__(self, fd: int, shared: mmap.mmap):
        self._fd = fd
        self._shared = shared

    @classmethod
    def create(cls, count: int) -> Chunks | None:
        """``count`` chunks; None when the system has no anonymous file or shared page to give."""
        try:
            fd = os.memfd_create("isu-chunks") if hasattr(os, "memfd_create") else _temporary_fd()
            os.ftruncate(fd, cls._SIZE)
            shared = mmap.mmap(fd, cls._SIZE)
        except (OSError, ValueError):
            return None
        struct.pack_into("qq", shared, 0, 0, count)
        return cls(fd, shared)

    def _take(self, from_front: bool) -> int | None:
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            front, back = struct.unpack_from("qq", self._shared, 0)
            if front >= back:
                return None
            if from_front:
                struct.pack_into("qq", self._shared, 0, front + 1, back)
                return front
            struct.pack_into("qq", self._shared, 0, front, back - 1)
            return back - 1
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def front(self) -> int | None:
        """The lowest chunk nobody has taken; None when none is left."""
        return self._take(from_front=True)

    def back(self) -> int | None:
        """The highest chunk nobody has taken; None when none is left."""
        return self._take(from_front=False)

    def close(self) -> None:
        self._shared.close()
        os.close(self._fd)

    def __enter__(self) -> Chunks:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _temporary_fd() -> int:
    """A file descriptor of a new, already unlinked temporary file."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix="isu-chunks-")
    os.unlink(name)
    return fd
