"""check.connectbatch with a fake loop, a fake epoll and fake sockets: outcomes come from the
epoll's batch (EPOLLOUT alone is success without asking the socket, EPOLLERR asks SO_ERROR),
deadlines are served by one loop timer, a deadline served late asks the socket, cancel()
never calls back, and an fd reused inside a batch is not judged by the batch's stale event.
A last test runs the real thing on loopback (a listener and a closed port)."""

from __future__ import annotations

import asyncio
import errno
import select
import socket
import types

import pytest

from keepalived_py.check import connectbatch as cb
from keepalived_py.check.kinds.base import Target
from keepalived_py.check.result import Status


class FakeSock:
    """A non-blocking TCP socket whose kernel state the test sets."""

    def __init__(self, world: World, family: int, kind: int, proto: int) -> None:
        self.world = world
        self.fd = world.next_fd()
        self.connect_errno = world.connect_errno
        self.so_error = 0
        self.peer = False
        self.closed = False
        self.sockopt_calls = 0
        self.sends = 0
        world.socks.append(self)
        self.peer, self.so_error = world.established, world.refused

    def fileno(self) -> int:
        return -1 if self.closed else self.fd

    def connect_ex(self, addr) -> int:
        self.addr = addr
        return self.connect_errno

    def getsockopt(self, level, opt) -> int:
        assert (level, opt) == (socket.SOL_SOCKET, socket.SO_ERROR)
        self.sockopt_calls += 1
        err, self.so_error = self.so_error, 0
        return err

    def send(self, data: bytes, flags: int = 0) -> int:
        """A zero-length send: 0 when established, the pending error (cleared), else EAGAIN."""
        assert data == b"" and flags & socket.MSG_NOSIGNAL
        self.sends += 1
        if self.so_error:
            err, self.so_error = self.so_error, 0
            raise OSError(err, "error")
        if self.peer:
            return 0
        raise BlockingIOError(errno.EAGAIN, "in progress")

    def getpeername(self):
        if not self.peer:
            raise OSError(errno.ENOTCONN, "not connected")
        return ("192.0.2.10", 80)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.world.free.append(self.fd)
            self.world.epoll.registered.pop(self.fd, None)   # the kernel drops a closed fd


class FakeEpoll:
    def __init__(self) -> None:
        self.registered: dict[int, int] = {}
        self.events: list[tuple[int, int]] = []

    def fileno(self) -> int:
        return 3

    def register(self, fd: int, mask: int) -> None:
        assert fd not in self.registered
        self.registered[fd] = mask

    def poll(self, timeout=-1):
        ev, self.events = self.events, []
        return ev

    def close(self) -> None:
        pass


class World:
    """The fake kernel: fds are reused lowest-first, as the kernel does."""

    def __init__(self) -> None:
        self.epoll = FakeEpoll()
        self.socks: list[FakeSock] = []
        self.free: list[int] = []
        self.fd = 10
        self.connect_errno = errno.EINPROGRESS
        #: the state a new socket is in when connect() returns (a local server's handshake
        #: is done by then)
        self.established = False
        self.refused = 0

    def next_fd(self) -> int:
        if self.free:
            self.free.sort()
            return self.free.pop(0)
        self.fd += 1
        return self.fd


class FakeLoop:
    def __init__(self) -> None:
        self.t = 100.0
        self.soon: list = []
        self.readers: dict = {}
        self.timers: list[Timer] = []

    def time(self) -> float:
        return self.t

    def call_soon(self, fn, *args):
        self.soon.append((fn, args))

    def add_reader(self, fd, fn):
        self.readers[fd] = fn

    def remove_reader(self, fd):
        return self.readers.pop(fd, None) is not None

    def call_at(self, when, fn):
        timer = Timer(when, fn)
        self.timers.append(timer)
        return timer

    def is_closed(self) -> bool:
        return False

    def run_soon(self) -> None:
        soon, self.soon = self.soon, []
        for fn, args in soon:
            fn(*args)

    def live_timers(self) -> list[Timer]:
        return [t for t in self.timers if not t.cancelled and not t.fired]

    def fire_due(self) -> None:
        for timer in sorted(self.live_timers(), key=lambda t: t.when):
            if timer.when <= self.t:
                timer.fired = True
                timer.fn()


class Timer:
    def __init__(self, when, fn) -> None:
        self.when, self.fn, self.cancelled, self.fired = when, fn, False, False

    def cancel(self) -> None:
        self.cancelled = True


@pytest.fixture
def world(monkeypatch):
    w = World()
    monkeypatch.setattr(cb, "_socket", types.SimpleNamespace(socket=lambda f, k, p: FakeSock(w, f, k, p)))
    return w


def engine(world: World) -> tuple[cb.ConnectEngine, FakeLoop, list]:
    loop = FakeLoop()
    eng = cb.ConnectEngine(loop, epoll=lambda: world.epoll)
    return eng, loop, []


def target(timeout: float = 3.0, address: str = "192.0.2.10") -> Target:
    return Target(address, 80, timeout=timeout)


def record(got: list):
    return lambda handle, result, sock: got.append((handle.token, result))


def test_epollout_alone_is_success_without_asking_the_socket(world):
    eng, loop, got = engine(world)
    h = eng.start(target(), record(got), "a")
    s = world.socks[0]
    assert world.epoll.registered == {s.fd: select.EPOLLOUT} and s.addr == ("192.0.2.10", 80)
    world.epoll.events = [(s.fd, select.EPOLLOUT)]
    loop.readers[3]()
    assert got == [("a", cb.CONNECTED)] and s.closed and s.sockopt_calls == 0
    assert eng.in_flight == 0 and h.sock is None


def test_epollerr_asks_so_error(world):
    eng, loop, got = engine(world)
    eng.start(target(), record(got), "a")
    eng.start(target(), record(got), "b")
    a, b = world.socks
    a.so_error = errno.ECONNREFUSED
    world.epoll.events = [(a.fd, select.EPOLLOUT | select.EPOLLERR | select.EPOLLHUP), (b.fd, select.EPOLLOUT | select.EPOLLHUP)]
    loop.readers[3]()
    assert [(tok, r.status) for tok, r in got] == [("a", Status.FAILED), ("b", Status.OK)]
    assert got[0][1].reason == "connect failed: Connection refused" and got[0][1].detail == "connect"
    assert a.sockopt_calls == 1 and b.sockopt_calls == 1


def test_one_timer_serves_every_deadline_and_a_late_one_asks_the_socket(world):
    eng, loop, got = engine(world)
    for i in range(5):
        loop.t = 100.0 + i * 0.001
        eng.start(target(), record(got), i)
    assert len(loop.live_timers()) == 1 and loop.live_timers()[0].when == pytest.approx(103.0)
    s = world.socks
    world.epoll.events = [(s[0].fd, select.EPOLLOUT)]
    loop.readers[3]()                     # 0 succeeded in time
    s[1].peer = True                      # 1 connected while the loop was busy
    s[2].so_error = errno.EHOSTUNREACH    # 2 failed, its event not read yet
    loop.t = 110.0                        # the loop comes back late: every deadline passed
    loop.fire_due()
    out = {tok: r for tok, r in got}
    assert out[0] is cb.CONNECTED and out[1] is cb.CONNECTED
    assert out[2].status is Status.FAILED and out[3] is cb.TIMED_OUT and out[4] is cb.TIMED_OUT
    assert all(x.closed for x in s) and eng.in_flight == 0 and not loop.live_timers()


def test_deadlines_are_never_served_early_and_at_most_a_slice_late(world):
    eng, loop, got = engine(world)
    for i in range(3):
        loop.t = 100.0 + i * 0.002
        eng.start(target(), record(got), i)
    loop.t = 103.0
    loop.fire_due()
    assert [tok for tok, _ in got] == [0]           # 1 and 2 are not due yet
    nxt = loop.live_timers()
    assert len(nxt) == 1 and nxt[0].when == pytest.approx(103.0 + cb.SLICE)
    loop.t = nxt[0].when
    loop.fire_due()
    assert [tok for tok, _ in got] == [0, 1, 2]


def test_timeouts_of_different_lengths_keep_their_own_order(world):
    eng, loop, got = engine(world)
    eng.start(target(timeout=5.0), record(got), "long")
    eng.start(target(timeout=1.0), record(got), "short")
    assert min(t.when for t in loop.live_timers()) == pytest.approx(101.0)
    loop.t = 101.0
    loop.fire_due()
    assert [tok for tok, _ in got] == ["short"]
    loop.t = 105.0
    loop.fire_due()
    assert [tok for tok, _ in got] == ["short", "long"]


def test_cancel_closes_and_never_calls_back(world):
    eng, loop, got = engine(world)
    h = eng.start(target(), record(got), "a")
    s = world.socks[0]
    h.cancel()
    assert s.closed and eng.in_flight == 0
    world.epoll.events = [(s.fd, select.EPOLLOUT)]   # an event read before the cancel took effect
    loop.readers[3]()
    loop.t = 200.0
    loop.fire_due()
    assert got == []


def test_a_reused_fd_is_not_judged_by_the_batchs_stale_event(world):
    """Inside one batch, a callback cancels check b and starts d (a's old fd) and c (b's fd):
    the batch's event for that fd was b's, so c waits for the next batch."""
    eng, loop, got = engine(world)
    handles: dict = {}

    def first(handle, result, sock):
        got.append((handle.token, result))
        handles["b"].cancel()
        handles["d"] = eng.start(target(), record(got), "d")
        handles["c"] = eng.start(target(), record(got), "c")

    handles["a"] = eng.start(target(), first, "a")
    handles["b"] = eng.start(target(), record(got), "b")
    a, b = world.socks
    world.epoll.events = [(a.fd, select.EPOLLOUT), (b.fd, select.EPOLLOUT)]
    loop.readers[3]()
    c = world.socks[3]
    assert c.fd == b.fd and not c.closed and [tok for tok, _ in got] == ["a"]
    world.epoll.events = [(c.fd, select.EPOLLOUT)]
    loop.readers[3]()
    assert [tok for tok, _ in got] == ["a", "c"]


def test_immediate_outcomes_call_back_later_not_from_start(world):
    eng, loop, got = engine(world)
    world.connect_errno = 0
    eng.start(target(), record(got), "now")
    world.connect_errno = errno.ENETUNREACH
    eng.start(target(), record(got), "unreachable")
    assert got == [] and all(s.closed for s in world.socks)
    loop.run_soon()
    assert got[0] == ("now", cb.CONNECTED) and got[1][1].status is Status.FAILED
    assert "Network is unreachable" in got[1][1].reason


def test_immediate_outcomes_share_one_call_soon_in_order_and_cancel_still_holds(world):
    """A batch of connects that complete at once costs one loop callback, not one per check;
    a cancelled one is not delivered; a check its callback starts gets the next callback."""
    eng, loop, got = engine(world)
    world.connect_errno = 0
    again: list = []

    def first(p, result, _):
        got.append((p.token, result))
        again.append(eng.start(target(), record(got), "again"))
    eng.start(target(), first, "a")
    dropped = eng.start(target(), record(got), "b")
    eng.start(target(), record(got), "c")
    dropped.cancel()
    assert len(loop.soon) == 1 and got == []
    loop.run_soon()
    assert [tok for tok, _ in got] == ["a", "c"] and len(loop.soon) == 1   # "again": next pass
    loop.run_soon()
    assert [tok for tok, _ in got] == ["a", "c", "again"] and not loop.soon


def _fake_make_socket(world: World, monkeypatch) -> list:
    """make_socket replaced by a fake socket's maker; the list gets each target's fwmark."""
    made: list = []

    def make(target, kind, proto, **kw):
        made.append(target.fwmark)
        return FakeSock(world, 0, kind, proto)
    monkeypatch.setattr(cb, "make_socket", make)
    return made


def test_socket_options_go_through_make_socket(world, monkeypatch):
    made = _fake_make_socket(world, monkeypatch)
    eng, loop, got = engine(world)
    eng.start(Target("192.0.2.10", 80, timeout=3.0, fwmark=7), record(got), "marked")
    eng.start(target(), record(got), "plain")
    assert made == [7] and len(world.socks) == 2


def test_socket_setup_failure_is_a_failed_check(world, monkeypatch):
    def refuse(*a, **kw):
        raise OSError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(cb, "make_socket", refuse)
    eng, loop, got = engine(world)
    eng.start(Target("192.0.2.10", 80, timeout=3.0, bind_if="eth9"), record(got), "x")
    loop.run_soon()
    assert got[0][1].status is Status.FAILED and "socket setup failed" in got[0][1].reason


def _listener_and_closed_port() -> tuple[socket.socket, int]:
    """A listening socket on loopback, and a loopback port nothing listens on."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    return listener, dead_port


def test_real_loopback_connects():
    """A listener is a success, a closed port a refusal, through a real epoll and loop."""
    listener, dead_port = _listener_and_closed_port()

    async def main():
        loop = asyncio.get_running_loop()
        got: dict = {}
        done = asyncio.Event()

        def record(handle, result, sock):
            got[handle.token] = result
            if len(got) == 2:
                done.set()
        cb.launch(loop, Target("127.0.0.1", listener.getsockname()[1], timeout=5.0), record, "up")
        cb.launch(loop, Target("127.0.0.1", dead_port, timeout=5.0), record, "down")
        await asyncio.wait_for(done.wait(), 30)
        return got
    try:
        got = asyncio.run(main())
    finally:
        listener.close()
    assert got["up"] is cb.CONNECTED
    assert got["down"].status is Status.FAILED and "refused" in got["down"].reason


def test_the_pass_after_a_batch_of_starts_reads_the_epoll(world):
    """On loopback the handshake is done when connect() returns: the one call_soon after the
    batch reads the epoll, so the outcomes need no reader wake-up; what is not ready yet
    still comes through the reader."""
    eng, loop, got = engine(world)
    eng.start(target(), record(got), "a")
    eng.start(target(), record(got), "b")
    a, b = world.socks
    assert len(loop.soon) == 1 and got == []        # start() never calls back
    world.epoll.events = [(a.fd, select.EPOLLOUT)]
    loop.run_soon()
    assert got == [("a", cb.CONNECTED)] and a.closed and not b.closed and not loop.soon
    world.epoll.events = [(b.fd, select.EPOLLOUT)]
    loop.readers[3]()
    assert [tok for tok, _ in got] == ["a", "b"] and eng.in_flight == 0


def test_the_pass_skips_a_cancelled_check(world):
    eng, loop, got = engine(world)
    h = eng.start(target(), record(got), "a")
    a = world.socks[0]
    world.epoll.events = [(a.fd, select.EPOLLOUT)]
    h.cancel()
    loop.run_soon()
    assert got == [] and a.closed


def test_finished_checks_do_not_wake_the_deadline_timer_every_slice(world):
    """The timer fires at the first deadline, drops the entries of checks already finished
    (due or not) and is next armed at the deadline of a check still in flight."""
    eng, loop, got = engine(world)
    for i in range(3):
        loop.t = 100.0 + i * 0.002
        eng.start(target(), record(got), i)
    world.epoll.events = [(s.fd, select.EPOLLOUT) for s in world.socks]
    loop.readers[3]()
    assert [tok for tok, _ in got] == [0, 1, 2]
    loop.t = 101.5
    eng.start(target(), record(got), "late")
    loop.t = 103.0
    loop.fire_due()
    timers = loop.live_timers()
    assert len(timers) == 1 and timers[0].when == pytest.approx(104.5)   # not 103.0 + SLICE
    loop.t = 104.5
    loop.fire_due()
    assert got[-1] == ("late", cb.TIMED_OUT) and not loop.live_timers()


def test_every_finished_check_gone_leaves_no_timer_until_the_next_start(world):
    eng, loop, got = engine(world)
    eng.start(target(), record(got), "a")
    world.epoll.events = [(world.socks[0].fd, select.EPOLLOUT)]
    loop.readers[3]()
    loop.t = 103.0
    loop.fire_due()
    assert not loop.live_timers() and eng.in_flight == 0
    eng.start(target(), record(got), "b")
    assert [t.when for t in loop.live_timers()] == [pytest.approx(106.0)]


def test_a_connect_established_when_it_returns_is_asked_at_once_not_registered(world):
    """A local server's handshake is done before connect() returns: a zero-length send says
    so (no epoll registration, no deadline entry), delivered by the pass after the starts;
    a refusal pending on the socket is its failure."""
    eng, loop, got = engine(world)
    world.established = True
    eng.start(target(), record(got), "up")
    world.established, world.refused = False, errno.ECONNREFUSED
    eng.start(target(address="192.0.2.11"), record(got), "refused")
    up, refused = world.socks
    assert up.sends == 1 and refused.sends == 1 and up.closed and refused.closed
    assert world.epoll.registered == {} and eng.in_flight == 0 and not loop.live_timers()
    assert got == [] and len(loop.soon) == 1                  # start() never calls back
    loop.run_soon()
    assert got[0] == ("up", cb.CONNECTED)
    assert got[1][0] == "refused" and got[1][1].reason == "connect failed: Connection refused"


def test_a_target_still_connecting_is_not_asked_again_until_found_established_at_once(world):
    """EAGAIN: the handshake is in progress (a remote server): the check goes through the
    epoll as before and that target's next connects skip the send; one found established in
    the pass right after its start makes the target asked at once again."""
    eng, loop, got = engine(world)
    t = target()
    eng.start(t, record(got), 1)
    first = world.socks[0]
    assert first.sends == 1 and world.epoll.registered == {first.fd: select.EPOLLOUT}
    world.epoll.events = [(first.fd, select.EPOLLOUT)]
    loop.readers[3]()                                   # the reader, later: still remote
    eng.start(t, record(got), 2)
    second = world.socks[1]
    assert second.sends == 0 and second.fd in world.epoll.registered
    world.epoll.events = [(second.fd, select.EPOLLOUT)]
    loop.run_soon()                                     # ready in the pass after its start
    world.established = True
    eng.start(t, record(got), 3)
    assert world.socks[2].sends == 1 and world.socks[2].closed
    loop.run_soon()
    assert [tok for tok, r in got] == [1, 2, 3] and all(r is cb.CONNECTED for _, r in got)


def test_a_broken_pipe_from_the_send_is_left_to_the_epoll(world):
    """EPIPE means no error was pending (the send cleared nothing): the epoll and SO_ERROR
    judge the check as before."""
    eng, loop, got = engine(world)
    world.refused = errno.EPIPE
    eng.start(target(), record(got), "x")
    s = world.socks[0]
    assert s.fd in world.epoll.registered and not s.closed and got == []


class Clock:
    """The scheduler's clock, read once per check that succeeds at once."""

    def __init__(self, t: float = 50.0) -> None:
        self.t, self.reads = t, 0

    def __call__(self) -> float:
        self.reads += 1
        self.t += 0.001
        return self.t


def test_burst_books_a_local_success_by_its_time_with_no_callback(world):
    """A connect established when it returns is over inside burst(): its entry is the
    clock's time, the socket is closed, nothing is registered or queued, and `done` is never
    called for it."""
    eng, loop, got = engine(world)
    world.established = True
    clock = Clock()
    out = eng.burst([target(), target(address="192.0.2.11")], ["a", "b"], record(got), clock)
    assert out == [pytest.approx(50.001), pytest.approx(50.002)] and clock.reads == 2
    assert all(s.closed and s.sends == 1 for s in world.socks)
    assert world.epoll.registered == {} and eng.in_flight == 0 and not loop.soon and not loop.live_timers()
    loop.run_soon()
    assert got == []


def test_burst_hands_a_refusal_and_a_remote_connect_to_the_callback_path(world):
    """Anything but a success at once is a Pending reporting through `done` as start()'s do:
    a refusal on the next pass, a handshake still in progress through the epoll (and that
    target is not asked at once again)."""
    eng, loop, got = engine(world)
    world.refused = errno.ECONNREFUSED
    refused_t, remote_t = target(), target(address="192.0.2.12")
    out = eng.burst([refused_t], ["refused"], record(got), Clock())
    world.refused = 0
    out += eng.burst([remote_t], ["remote"], record(got), Clock())
    assert [type(h) for h in out] == [cb.Pending, cb.Pending] and [h.token for h in out] == ["refused", "remote"]
    refused, remote = world.socks
    assert refused.closed and not remote.closed and world.epoll.registered == {remote.fd: select.EPOLLOUT}
    assert got == []                                    # never from inside burst()
    loop.run_soon()
    assert got[0][0] == "refused" and got[0][1].reason == "connect failed: Connection refused"
    world.epoll.events = [(remote.fd, select.EPOLLOUT)]
    loop.readers[3]()
    assert got[1] == ("remote", cb.CONNECTED)
    eng.burst([remote_t], ["again"], record(got), Clock())
    assert world.socks[2].sends == 0 and world.socks[2].fd in world.epoll.registered


def test_burst_sends_targets_with_socket_options_through_start(world, monkeypatch):
    made = _fake_make_socket(world, monkeypatch)
    eng, loop, got = engine(world)
    world.established = True
    out = eng.burst([Target("192.0.2.10", 80, timeout=3.0, fwmark=7), target()], ["marked", "plain"],
                    record(got), Clock())
    assert made == [7] and isinstance(out[0], cb.Pending) and isinstance(out[1], float)
    loop.run_soon()
    assert got == [("marked", cb.CONNECTED)]


def test_burst_real_loopback():
    """Through a real socket and a real loop: a listener succeeds inside burst(), a closed
    port comes back as a Pending that reports the refusal."""
    listener, dead_port = _listener_and_closed_port()

    async def main():
        loop = asyncio.get_running_loop()
        got: list = []
        done = asyncio.Event()

        def report(handle, result, sock):
            got.append((handle.token, result))
            done.set()
        eng = cb.engine_for(loop)
        out = eng.burst([Target("127.0.0.1", listener.getsockname()[1], timeout=5.0),
                         Target("127.0.0.1", dead_port, timeout=5.0)], ["up", "down"], report, loop.time)
        await asyncio.wait_for(done.wait(), 30)
        return out, got
    try:
        out, got = asyncio.run(main())
    finally:
        listener.close()
    assert isinstance(out[0], float) and isinstance(out[1], cb.Pending)
    assert got[0][0] == "down" and got[0][1].status is Status.FAILED and "refused" in got[0][1].reason
