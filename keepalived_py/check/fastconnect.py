"""TCP connect checks without a Task each: a non-blocking socket, one writer callback and one
timer on the event loop, the outcome handed to a plain callback.

Why: at thousands of checks per second, asyncio.open_connection / sock_connect + a Task +
asyncio.timeout per check cost several times the connect itself, and a loop that falls
behind turned into false timeouts. Here a timer that fires late looks at the socket before
it says "timeout": keepalived's meaning is "not connected within connect_timeout", and a
connection the kernel completed while the loop was busy is connected (`connected()`).

`ConnectCheck` never calls back from its constructor (immediate outcomes go through
call_soon), so the caller holds the handle before the callback can run; `cancel()` closes
the socket and calls nothing.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from typing import Any

from keepalived_py.check.kinds.base import Target, connected, make_socket, sockaddr
from keepalived_py.check.result import Result, Status

_PENDING = frozenset({errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY, errno.EINTR})


def failure(err: int) -> Result:
    return Result(Status.FAILED, f"connect failed: {os.strerror(err)}", detail="connect")


class ConnectCheck:
    """One connect in flight; `done(self, result)` is called once unless cancelled. `token`
    is the caller's (the scheduler keeps its checker id and start time there)."""

    __slots__ = ("loop", "sock", "done", "token", "timer", "start", "keep", "_writer")

    def __init__(self, loop: Any, target: Target, done: Callable[[ConnectCheck, Result, socket.socket | None], None],
                 token: Any = None, *, keep: bool = False, timeout: float | None = None) -> None:
        self.loop = loop
        self.done = done
        self.token = token
        self.timer: Any = None
        self.keep = keep            # hand the connected socket to `done` instead of closing it
        self._writer = False
        self.start = loop.time()
        self.sock: socket.socket | None = None
        try:
            sock = make_socket(target, socket.SOCK_STREAM, socket.IPPROTO_TCP, raw=not keep)
        except OSError as e:
            loop.call_soon(self._finish, Result(Status.FAILED, f"socket setup failed: {e.strerror or e}"))
            return
        self.sock = sock
        try:
            err = sock.connect_ex(sockaddr(target))
        except OSError as e:     # e.g. a bad address family: connect_ex raises for those
            err = e.errno or errno.EINVAL
        if err == 0:
            loop.call_soon(self._finish, None)
        elif err in _PENDING:
            loop.add_writer(sock.fileno(), self._writable)
            self._writer = True
            self.timer = loop.call_at(self.start + (target.timeout if timeout is None else timeout), self._timed_out)
        else:
            loop.call_soon(self._finish, failure(err))

    def _writable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self._finish(failure(err) if err else None)

    def _timed_out(self) -> None:
        """The deadline's timer ran (maybe late): connected by now means connected in time
        as far as this process can tell; still in progress means a timeout."""
        self.timer = None
        sock = self.sock
        if sock is None:
            return
        ok, err = connected(sock)
        if ok:
            self._finish(None)
        elif err:
            self._finish(failure(err))
        else:
            self._finish(Result(Status.TIMEOUT, "connect timeout", detail="connect"))

    def _release(self) -> socket.socket | None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        sock, self.sock = self.sock, None
        if sock is not None and self._writer:
            self.loop.remove_writer(sock.fileno())
            self._writer = False
        return sock

    def _finish(self, result: Result | None) -> None:
        """`result` None: connected."""
        if self.done is None:
            return
        sock = self._release()
        latency = self.loop.time() - self.start
        if result is None:
            result = Result(Status.OK, "connected", latency)
        elif result.latency == 0.0:
            result = Result(result.status, result.reason, latency, detail=result.detail)
        handed = None
        if sock is not None:
            if self.keep and result.ok:
                handed = sock
            else:
                sock.close()
        done, self.done = self.done, None
        done(self, result, handed)

    def cancel(self) -> None:
        """Abandon the check: the socket closes, `done` is never called."""
        self.done = None
        sock = self._release()
        if sock is not None:
            sock.close()
