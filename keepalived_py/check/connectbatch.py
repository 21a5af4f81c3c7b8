"""TCP_CHECK's connects, many in flight on one private epoll, their outcomes read in batches.

Why: with a uvloop writer registration (a libuv poll handle, two epoll_ctl calls), a loop
TimerHandle and a Result per check, the Python and loop work around each connect cost several
times the connect itself (issue 14: 0.1 CPU ms per check on the host, 6-8 ms in the emulated
guest where keepalived needs 0.7-1.2 ms). Here a check is a socket, a connect and one
EPOLL_CTL_ADD on an epoll of our own; that epoll is registered with the event loop once and its
events are read a batch at a time; close() drops the registration. Deadlines live in one FIFO
per connect_timeout value: checks start in time order, so each FIFO is sorted by deadline, and
one loop timer serves them all, at most every SLICE seconds. A FIFO entry is a tuple of numbers
(deadline, fd, sequence), which the cyclic collector stops tracking: a finished check's objects
die at once instead of living out its connect_timeout and being promoted to the old generation
(whose collections would then walk every checker's state).

keepalived's meaning is kept: a check succeeds when the connection completes within
connect_timeout. EPOLLOUT without EPOLLERR means SO_ERROR is 0 (the kernel's tcp_poll sets
EPOLLERR for any pending error), so a success needs no getsockopt; with EPOLLERR / EPOLLHUP,
SO_ERROR decides, as keepalived's tcp_socket_state does. A deadline served late asks the socket
(kinds.base.connected): a connection the kernel completed while this process was busy is
connected. Every success shares one Result (the scheduler times checks itself).

`start()` never calls back from inside itself (immediate outcomes, as a loopback connect's,
are queued and delivered by one call_soon per batch, not a loop Handle per check), so the
caller holds the handle first; `Pending.cancel()` closes the socket and calls nothing.
"""

from __future__ import annotations

import _socket
import errno
import os
import select
import socket
from collections import deque
from collections.abc import Callable
from typing import Any

from keepalived_py.check.kinds.base import Target, connected, make_socket, sockaddr
from keepalived_py.check.result import Result, Status

#: a deadline is served at most this much late (plus the loop's own lateness): one timer per
#: slice for every check in flight, not one per check
SLICE = 0.01
CONNECTED = Result(Status.OK, "connected")
TIMED_OUT = Result(Status.TIMEOUT, "connect timeout", detail="connect")
_PENDING = frozenset({errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY, errno.EINTR})
_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
_TCP = socket.IPPROTO_TCP
_EPOLLOUT = select.EPOLLOUT
_TROUBLE = select.EPOLLERR | select.EPOLLHUP
_SOL_SOCKET, _SO_ERROR = socket.SOL_SOCKET, socket.SO_ERROR
_NOSIGNAL = socket.MSG_NOSIGNAL
#: bound on the per-Target address cache (a reload makes new Targets)
_ADDR_CACHE = 1 << 16

Done = Callable[["Pending", Result, None], None]
_new = object.__new__


def failure(err: int) -> Result:
    """keepalived's "connect failed" with the errno's text (one object per errno)."""
    r = _failures.get(err)
    if r is None:
        r = _failures[err] = Result(Status.FAILED, f"connect failed: {os.strerror(err)}", detail="connect")
    return r


_failures: dict[int, Result] = {}


class Pending:
    """One check: the scheduler's handle (`token` is its own, `cancel()` abandons it)."""

    __slots__ = ("engine", "sock", "fd", "done", "token", "seq", "gen", "result", "entry")

    def __init__(self, engine: ConnectEngine, done: Done, token: Any) -> None:
        self.engine = engine
        self.done: Done | None = done
        self.token = token
        self.sock: Any = None
        self.fd = -1
        self.seq = 0
        self.gen = 0
        #: an immediate outcome waiting for its call_soon
        self.result: Result | None = None
        #: the engine's address cache entry of the target (in flight only)
        self.entry: list | None = None

    def cancel(self) -> None:
        """Abandon the check: the socket closes, `done` is never called."""
        self.done = None
        sock = self.sock
        if sock is not None:
            self.sock = None
            self.engine._pending.pop(self.fd, None)
            sock.close()


class ConnectEngine:
    """Connect checks on one event loop. `now` is the loop's clock (its timers' scale);
    `epoll` makes the private epoll (tests pass a fake)."""

    def __init__(self, loop: Any, *, now: Callable[[], float] | None = None,
                 epoll: Callable[[], Any] = select.epoll, slice_s: float = SLICE) -> None:
        self.loop = loop
        self.now = now or loop.time
        self.slice = slice_s
        self._ep = epoll()
        self._fd = self._ep.fileno()
        self._pending: dict[int, Pending] = {}
        self._queues: dict[float, deque[tuple[float, int, int]]] = {}
        self._seq = 0
        self._timer: Any = None
        self._timer_at = float("inf")
        self._gen = 0
        self._addr: dict[int, list] = {}
        #: checks with an immediate outcome (in their `result`) waiting for the batch's call_soon
        self._soon: list[Pending] = []
        #: a _flush pass is queued (call_soon); it reads the epoll too when `_reap` is set
        self._pass_due = False
        self._reap = False
        loop.add_reader(self._fd, self._ready)

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def _address(self, target: Target) -> list:
        """[target, family, sockaddr, no socket options, ask at once], cached by the Target
        object. "Ask at once": the target's last connect was established before connect()
        returned (a local server), so the next one is asked right away (see start())."""
        if len(self._addr) >= _ADDR_CACHE:
            self._addr.clear()
        plain = not (target.fwmark or target.bind_if or target.bindto or target.bind_port)
        got = self._addr[id(target)] = [target, target.family, sockaddr(target), plain, True]
        return got

    def start(self, target: Target, done: Done, token: Any = None) -> Pending:
        """Send the connect now; `done(handle, result, None)` later, unless cancelled."""
        got = self._addr.get(id(target))
        if got is None or got[0] is not target:
            got = self._address(target)
        _, family, addr, plain, at_once = got
        try:
            sock = (_socket.socket(family, _STREAM, _TCP) if plain
                    else make_socket(target, socket.SOCK_STREAM, _TCP, raw=True))
        except OSError as e:
            p = _new(Pending)
            p.engine, p.done, p.token, p.sock = self, done, token, None
            self._later(p, Result(Status.FAILED, f"socket setup failed: {e.strerror or e}"))
            return p
        try:
            err = sock.connect_ex(addr)
        except OSError as e:     # e.g. a bad address family: connect_ex raises for those
            err = e.errno or errno.EINVAL
        if at_once and err in _PENDING:
            err = self._ask(sock, got)
        return self._follow(sock, err, got, target.timeout, done, token)

    def burst(self, targets: list[Target], tokens: list, done: Done, clock: Callable[[], float]) -> list:
        """Start a batch of checks (the scheduler's due steady ones): per check, the time on
        `clock` it succeeded at, when it did at once (no callback follows: a local server's
        handshake is done before connect() returns, and the zero-length send says so), else
        its Pending, which reports through `done` as start()'s do. Why: a check that is over
        before the loop turns needs no handle, no queued delivery and no callback; the
        scheduler books the batch's successes in one pass."""
        out: list = []
        append = out.append
        cache = self._addr
        sock_new = _socket.socket
        for target, token in zip(targets, tokens, strict=True):
            got = cache.get(id(target))
            if got is None or got[0] is not target:
                got = self._address(target)
            if not (got[3] and got[4]):          # socket options, or a remote server: as start()
                append(self.start(target, done, token))
                continue
            try:
                sock = sock_new(got[1], _STREAM, _TCP)
            except OSError:
                append(self.start(target, done, token))   # it reports the failure its way
                continue
            try:
                err = sock.connect_ex(got[2])
            except OSError as e:
                err = e.errno or errno.EINVAL
            if err == errno.EINPROGRESS:
                try:
                    sock.send(b"", _NOSIGNAL)
                except OSError as e:
                    err = self._asked(e, got)
                else:
                    sock.close()
                    append(clock())
                    continue
            append(self._follow(sock, err, got, target.timeout, done, token))
        return out

    def _follow(self, sock: Any, err: int, got: list, timeout: float, done: Done, token: Any) -> Pending:
        """A connect sent on `sock` with outcome `err` so far: a Pending that reports it (in
        flight on the private epoll, or an immediate outcome queued for the next pass)."""
        p = _new(Pending)           # no __init__ frame: the pending path sets the rest below
        p.engine, p.done, p.token, p.sock = self, done, token, None
        if err in _PENDING:
            fd = sock.fileno()
            self._seq = seq = self._seq + 1
            p.sock, p.fd, p.seq, p.gen, p.entry = sock, fd, seq, self._gen, got
            self._ep.register(fd, _EPOLLOUT)
            self._pending[fd] = p
            q = self._queues.get(timeout)
            if q is None:
                q = self._queues[timeout] = deque()
            deadline = self.now() + timeout
            q.append((deadline, fd, seq))
            if deadline < self._timer_at:
                self._arm(deadline)
            if not self._pass_due:
                self._pass_due = self._reap = True
                self.loop.call_soon(self._flush)
            else:
                self._reap = True
            return p
        sock.close()
        p.result = CONNECTED if err == 0 else failure(err)
        self._soon.append(p)
        if not self._pass_due:
            self._pass_due = True
            self.loop.call_soon(self._flush)
        return p

    @classmethod
    def _ask(cls, sock: Any, entry: list) -> int:
        """The connect's state without an epoll round: a zero-length send returns 0 on an
        established connection (nothing goes on the wire), EAGAIN while the handshake is in
        progress, and the connection's pending error (SO_ERROR's, which it clears) if it
        failed. Why: to a local server the handshake is done before connect() returns, and
        this one system call replaces the epoll registration, the epoll read and the Python
        work around both. A target whose handshake was still in progress is not asked again
        until one of its connects is found established in the pass right after its start."""
        try:
            sock.send(b"", _NOSIGNAL)
            return 0
        except OSError as e:
            return cls._asked(e, entry)

    @staticmethod
    def _asked(e: OSError, entry: list) -> int:
        """What the zero-length send's error says (see _ask)."""
        if isinstance(e, BlockingIOError) or e.errno == errno.EPIPE:
            # still connecting, or no error pending and not connecting: let epoll say
            entry[4] = False
            return errno.EINPROGRESS
        return e.errno or errno.EIO

    def _later(self, p: Pending, result: Result) -> None:
        """Deliver `result` on the loop's next pass (never from inside start())."""
        p.result = result
        self._soon.append(p)
        if not self._pass_due:
            self._pass_due = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        """The pass after a batch of starts: deliver the queued immediate outcomes in order
        (those queued meanwhile, by a callback starting a check that completes at once, get
        the next pass), then read the epoll if a connect went in flight. Why read it here: on
        loopback the handshake is done before connect() returns, so the batch's outcomes are
        ready in the same loop iteration, one loop wake-up (an epoll_wait, a reader callback)
        fewer per batch; what is not ready yet comes through the reader as before."""
        batch, self._soon = self._soon, []
        reap, self._pass_due, self._reap = self._reap, False, False
        for p in batch:
            done = p.done
            if done is not None:
                p.done = None
                done(p, p.result, None)
        if reap and self._pending:
            self._ready(True)

    @staticmethod
    def _deliver(p: Pending, result: Result) -> None:
        done = p.done
        if done is not None:
            p.done = None
            done(p, result, None)

    def _ready(self, quick: bool = False) -> None:
        """The private epoll is readable: one batch of outcomes. A check started while the
        batch is handled (a callback's) may reuse a closed check's fd: its `gen` tells its
        event apart from the batch's, and the next batch reports it again. `quick`: the pass
        right after the starts, where a connect found established is a local server's, to be
        asked at once next time (start())."""
        self._gen += 1
        gen = self._gen
        pending = self._pending
        for fd, ev in self._ep.poll(0):
            p = pending.get(fd)
            if p is None or p.gen == gen:
                continue
            del pending[fd]
            sock = p.sock
            p.sock = None
            if ev & _TROUBLE:
                err = sock.getsockopt(_SOL_SOCKET, _SO_ERROR)
                result = failure(err) if err else CONNECTED
            else:
                result = CONNECTED
            sock.close()
            if quick:
                p.entry[4] = True
            done = p.done
            if done is not None:
                p.done = None
                done(p, result, None)

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = self.loop.call_at(when, self._expire)

    def _expire(self) -> None:
        """Serve every deadline that has passed: a check still pending asks its socket. The
        entries of checks already finished are dropped whether due or not, so the timer is
        next armed at the deadline of a check still in flight: with checks finishing in
        milliseconds and connect_timeout seconds away, the timer fires about once per
        connect_timeout, not once per SLICE."""
        self._timer, self._timer_at = None, float("inf")
        now = self.now()
        pending = self._pending
        nxt = float("inf")
        for timeout, q in list(self._queues.items()):
            while q:
                deadline, fd, seq = q[0]
                p = pending.get(fd)
                if p is None or p.seq != seq:
                    q.popleft()    # finished or cancelled before its deadline
                    continue
                if deadline > now:
                    break          # in flight, not due: the timer's next time
                q.popleft()
                del pending[fd]
                sock = p.sock
                p.sock = None
                ok, err = connected(sock)
                sock.close()
                self._deliver(p, CONNECTED if ok else failure(err) if err else TIMED_OUT)
            if q:
                nxt = min(nxt, q[0][0])
            else:
                del self._queues[timeout]
        if nxt != float("inf") and nxt < self._timer_at:
            self._arm(max(nxt, now + self.slice))

    def close(self) -> None:
        """Abandon every check (no callbacks) and let go of the loop."""
        for p in list(self._pending.values()):
            p.cancel()
        self._queues.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.loop.is_closed():
            self.loop.remove_reader(self._fd)
        self._ep.close()


#: the engine made last (a caller may read it, check its loop and skip engine_for's call)
active: ConnectEngine | None = None


def engine_for(loop: Any) -> ConnectEngine:
    """The engine of `loop` (one per process: the check child runs one loop; a new loop, as in
    tests, gets a new engine and the old one is closed)."""
    global active
    e = active
    if e is None or e.loop is not loop:
        if e is not None:
            e.close()
        e = active = ConnectEngine(loop)
    return e


def launch(loop: Any, target: Target, done: Done, token: Any = None) -> Pending:
    """The scheduler's launch protocol (see scheduler.py): start one check on `loop`."""
    return engine_for(loop).start(target, done, token)
