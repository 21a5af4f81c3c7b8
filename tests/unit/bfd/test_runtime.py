"""The bfd child's glue without sockets or sleeping: fake sockets, a fake clock and a loop
stand-in that records the timers armed. Datagrams go through decode, demux and the
session; actions come out as sends, reports and counted drops."""

from __future__ import annotations

import ipaddress
import itertools
import logging
from types import SimpleNamespace

from keepalived_py.bfd import runtime as rt
from keepalived_py.bfd.demux import Endpoint
from keepalived_py.bfd.packet import ControlPacket, State, decode, encode
from keepalived_py.bfd.plan import InstancePlan
from keepalived_py.bfd.session import SessionConfig
from keepalived_py.bfd.sockets import Datagram
from keepalived_py.clock import FakeClock

A = ipaddress.ip_address


class FakeSock:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def sendto(self, data: bytes, addr: tuple[str, int]) -> int:
        self.sent.append((data, addr))
        return len(data)

    def close(self) -> None:
        pass


class FakeLoop:
    def __init__(self) -> None:
        self.timers: list[tuple[float, object]] = []

    def call_later(self, delay: float, fn, *args):
        handle = SimpleNamespace(cancel=lambda: None, delay=delay, fn=fn, args=args)
        self.timers.append((delay, handle))
        return handle


def make(monkeypatch):
    socks: list[FakeSock] = []

    def sender(*_a, **_k):
        socks.append(FakeSock())
        return socks[-1]

    monkeypatch.setattr(rt.sockets, "open_sender", sender)
    reports: list[tuple] = []
    clock = FakeClock(100.0)
    discrs = itertools.count(0x100)

    def rand(lo: int, hi: int) -> int:
        """No jitter; discriminators (the only 32-bit range drawn) count up."""
        return next(discrs) if hi == 0xFFFFFFFF else lo

    run = rt.BfdRuntime(clock, logging.getLogger("bfd-test"), lambda *a: reports.append(a), rand=rand)
    run._loop = FakeLoop()  # type: ignore[assignment]
    cfg = SessionConfig("b1", min_tx_us=50_000, min_rx_us=50_000, idle_tx_us=1_000_000, multiplier=3)
    run._create(InstancePlan(cfg, Endpoint(A("192.0.2.2"), A("192.0.2.1")), True, False))
    return run, socks, reports, clock


def test_start_sends_reports_and_arms(monkeypatch):
    run, socks, reports, _ = make(monkeypatch)
    data, addr = socks[0].sent[0]
    assert addr == ("192.0.2.2", 3784) and decode(data).state == State.DOWN
    assert reports == [("b1", False, True, False)]
    assert run._loop.timers[-1][0] == 1.0  # idle 1 s, no jitter drawn


def test_datagrams_drive_the_session_and_drops_are_counted(monkeypatch):
    run, socks, reports, clock = make(monkeypatch)
    mine = run.running["b1"].session.local_discr
    src, dst = A("192.0.2.2"), A("192.0.2.1")
    down = ControlPacket(state=State.DOWN, my_discr=99, detect_mult=3, desired_min_tx_us=1_000_000,
                         required_min_rx_us=50_000)
    run.handle_datagram(Datagram(encode(down), src, dst, 255, False))
    assert run.states() == {"b1": State.INIT}
    up = ControlPacket(state=State.UP, my_discr=99, your_discr=mine, detect_mult=3, poll=True,
                       desired_min_tx_us=50_000, required_min_rx_us=50_000)
    clock.advance(0.01)
    run.handle_datagram(Datagram(encode(up), src, dst, 255, False))
    assert run.states() == {"b1": State.UP}
    assert reports[-1] == ("b1", True, True, False)
    final = decode(socks[0].sent[-1][0])
    assert final.final and final.state == State.UP and final.your_discr == 99
    run.handle_datagram(Datagram(b"\x20\x40", src, dst, 255, False))  # too short
    run.handle_datagram(Datagram(encode(down), src, dst, 200, False))  # ttl
    run.handle_datagram(Datagram(encode(down), A("192.0.2.9"), dst, 255, False))  # no session
    run.handle_datagram(Datagram(encode(down), src, dst, 255, True))  # truncated
    assert run.drops() == {"no_session": 1, "too_short": 1, "truncated": 1, "ttl": 1}
    assert run.totals.rx_datagrams == 6


def test_timer_fires_expiry_and_reports_down(monkeypatch):
    run, socks, reports, clock = make(monkeypatch)
    r = run.running["b1"]
    src, dst = A("192.0.2.2"), A("192.0.2.1")
    run.handle_datagram(Datagram(encode(ControlPacket(state=State.INIT, my_discr=99,
                                                      your_discr=r.session.local_discr, detect_mult=3,
                                                      desired_min_tx_us=50_000, required_min_rx_us=50_000)),
                                 src, dst, 255, False))
    assert run.states() == {"b1": State.UP}
    due = r.session.expire_at
    clock.advance(0.5)
    run._fire(r, due)
    assert run.states() == {"b1": State.DOWN}
    assert reports[-1] == ("b1", False, True, False)
    assert decode(socks[0].sent[-1][0]).diag == 1
