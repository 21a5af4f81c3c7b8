"""check.fastconnect with a fake loop and a fake socket layer: a deadline timer that fires
late judges the socket, not the clock (a connection the kernel made is a success, a refused
one a failure, one still in progress a timeout); cancel() closes and never calls back."""

from __future__ import annotations

import errno
import socket

import pytest

from keepalived_py.check import fastconnect
from keepalived_py.check.kinds.base import Target
from keepalived_py.check.result import Status


class FakeSock:
    """A non-blocking TCP socket whose kernel state the test sets."""

    def __init__(self, connect_errno: int = errno.EINPROGRESS) -> None:
        self.connect_errno = connect_errno
        self.so_error = 0
        self.peer = False
        self.closed = False

    def fileno(self) -> int:
        return 7

    def connect_ex(self, addr) -> int:
        return self.connect_errno

    def getsockopt(self, level, opt) -> int:
        assert (level, opt) == (socket.SOL_SOCKET, socket.SO_ERROR)
        err, self.so_error = self.so_error, 0
        return err

    def getpeername(self):
        if not self.peer:
            raise OSError(errno.ENOTCONN, "not connected")
        return ("192.0.2.10", 80)

    def close(self) -> None:
        self.closed = True


class FakeLoop:
    """Records callbacks instead of running them; `t` is its clock."""

    def __init__(self) -> None:
        self.t = 100.0
        self.soon: list = []
        self.writers: dict = {}
        self.timers: list = []

    def time(self) -> float:
        return self.t

    def call_soon(self, fn, *args):
        self.soon.append((fn, args))

    def add_writer(self, fd, fn):
        self.writers[fd] = fn

    def remove_writer(self, fd):
        return self.writers.pop(fd, None) is not None

    def call_at(self, when, fn):
        timer = Timer(when, fn)
        self.timers.append(timer)
        return timer

    def run_soon(self) -> None:
        soon, self.soon = self.soon, []
        for fn, args in soon:
            fn(*args)


class Timer:
    def __init__(self, when, fn) -> None:
        self.when, self.fn, self.cancelled = when, fn, False

    def cancel(self) -> None:
        self.cancelled = True


@pytest.fixture
def sock(monkeypatch):
    s = FakeSock()
    monkeypatch.setattr(fastconnect, "make_socket", lambda target, kind, proto, **kw: s)
    return s


TARGET = Target("192.0.2.10", 80, timeout=3.0)


def start(loop):
    got: list = []
    check = fastconnect.ConnectCheck(loop, TARGET, lambda c, r, s: got.append(r), "tok")
    return check, got


def test_writable_in_time_is_success(sock):
    loop = FakeLoop()
    check, got = start(loop)
    assert loop.timers[0].when == 103.0 and 7 in loop.writers and not got
    loop.t = 100.002
    loop.writers[7]()
    assert [r.status for r in got] == [Status.OK] and got[0].latency == pytest.approx(0.002)
    assert sock.closed and not loop.writers and loop.timers[0].cancelled


def test_late_timer_on_a_connected_socket_is_success(sock):
    """The loop was blocked past the deadline; the kernel finished the handshake meanwhile,
    and the timer's callback happens to run before the writer's."""
    loop = FakeLoop()
    check, got = start(loop)
    sock.peer = True
    loop.t = 108.0
    loop.timers[0].fn()
    assert [r.status for r in got] == [Status.OK]
    assert sock.closed and not loop.writers


def test_timer_on_a_socket_still_connecting_is_a_timeout(sock):
    loop = FakeLoop()
    check, got = start(loop)
    loop.t = 103.0
    loop.timers[0].fn()
    assert [(r.status, r.reason) for r in got] == [(Status.TIMEOUT, "connect timeout")]
    assert sock.closed and not loop.writers


def test_timer_on_a_refused_socket_is_a_failure(sock):
    loop = FakeLoop()
    check, got = start(loop)
    sock.so_error = errno.ECONNREFUSED
    loop.timers[0].fn()
    assert [r.status for r in got] == [Status.FAILED] and "refused" in got[0].reason


def test_writable_with_an_error_is_a_failure(sock):
    loop = FakeLoop()
    check, got = start(loop)
    sock.so_error = errno.EHOSTUNREACH
    loop.writers[7]()
    assert [r.status for r in got] == [Status.FAILED] and got[0].detail == "connect"


def test_immediate_outcomes_call_back_later_not_from_the_constructor(sock):
    loop = FakeLoop()
    sock.connect_errno = 0
    check, got = start(loop)
    assert not got                       # the caller holds the handle first
    loop.run_soon()
    assert [r.status for r in got] == [Status.OK] and sock.closed
    sock2 = FakeSock(errno.ENETUNREACH)
    got2: list = []
    fastconnect.make_socket = lambda *a, **kw: sock2  # monkeypatch fixture restores the original
    fastconnect.ConnectCheck(loop, TARGET, lambda c, r, s: got2.append(r))
    assert not got2
    loop.run_soon()
    assert [r.status for r in got2] == [Status.FAILED]


def test_cancel_closes_and_never_calls_back(sock):
    loop = FakeLoop()
    check, got = start(loop)
    check.cancel()
    assert sock.closed and not loop.writers and loop.timers[0].cancelled
    loop.timers[0].fn()               # a timer already due still runs once: it must do nothing
    assert not got


def test_keep_hands_over_the_connected_socket(sock):
    loop = FakeLoop()
    handed: list = []
    fastconnect.ConnectCheck(loop, TARGET, lambda c, r, s: handed.append((r.status, s)), keep=True)
    loop.writers[7]()
    assert handed == [(Status.OK, sock)] and not sock.closed


def test_socket_setup_failure(monkeypatch):
    def refuse(*a, **kw):
        raise OSError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(fastconnect, "make_socket", refuse)
    loop = FakeLoop()
    check, got = start(loop)
    loop.run_soon()
    assert [r.status for r in got] == [Status.FAILED] and "socket setup failed" in got[0].reason
