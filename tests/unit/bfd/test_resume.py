"""BFD sessions across a bfd child respawn or in-place restart (bfd/resume.py and the
runtime's state file), with fake sockets and a fake clock: an Up session is recorded with
its discriminators and the peer's timers; a successor started with resume carries it on
Up (same discriminators, a packet at once, Up reported), and the RFC takes over from
there (the peer's Down brings it Down); a changed configuration, a session that was not
Up or a start without resume begin Down as keepalived does; a plain stop forgets the
records, a quiet one (in-place restart) keeps them."""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging

from keepalived_py.bfd import resume as resuming
from keepalived_py.bfd import runtime as rt
from keepalived_py.bfd.demux import Endpoint
from keepalived_py.bfd.packet import ControlPacket, Diag, State, decode, encode
from keepalived_py.bfd.plan import InstancePlan
from keepalived_py.bfd.session import SessionConfig
from keepalived_py.bfd.sockets import Datagram
from keepalived_py.clock import FakeClock
from keepalived_py.vrrpd.adopt import StateFile
from tests.unit.bfd.test_runtime import FakeLoop, FakeSock

A = ipaddress.ip_address
SRC, DST = A("192.0.2.2"), A("192.0.2.1")
PEER = 0x9999


def plan(min_tx_us: int = 50_000) -> InstancePlan:
    cfg = SessionConfig("b1", min_tx_us=min_tx_us, min_rx_us=50_000, idle_tx_us=1_000_000, multiplier=3)
    return InstancePlan(cfg, Endpoint(SRC, DST), True, False)


def make(monkeypatch, path, *, resume: bool, first_discr: int, p: InstancePlan | None = None):
    socks: list[FakeSock] = []

    def sender(*_a, **_k):
        socks.append(FakeSock())
        return socks[-1]

    monkeypatch.setattr(rt.sockets, "open_sender", sender)
    reports: list[tuple] = []
    discrs = itertools.count(first_discr)

    def rand(lo: int, hi: int) -> int:
        return next(discrs) if hi == 0xFFFFFFFF else lo

    run = rt.BfdRuntime(FakeClock(100.0), logging.getLogger("bfd-test"), lambda *a: reports.append(a),
                        rand=rand, state_file=StateFile(path), resume=resume)
    run._loop = FakeLoop()  # type: ignore[assignment]
    run._loop.call_soon = lambda fn, *a: fn(*a)  # type: ignore[attr-defined]
    run._create(p or plan())
    run.flush_state()
    return run, socks, reports


def bring_up(run) -> None:
    s = run.running["b1"].session
    run.handle_datagram(Datagram(encode(ControlPacket(
        state=State.INIT, my_discr=PEER, your_discr=s.local_discr, detect_mult=3,
        desired_min_tx_us=50_000, required_min_rx_us=50_000)), SRC, DST, 255, False))
    assert run.states() == {"b1": State.UP}


def test_up_session_is_recorded_and_resumed(monkeypatch, tmp_path):
    path = tmp_path / "bfd.pid.state"
    first, _socks, _ = make(monkeypatch, path, resume=False, first_discr=0x100)
    assert StateFile(path).load() == {}  # nothing Up yet
    bring_up(first)
    rec = StateFile(path).load()["b1"]
    assert rec["state"] == "UP" and rec["local_discr"] == 0x100 and rec["remote_discr"] == PEER
    # the predecessor dies (nothing more written); its successor resumes
    second, socks, reports = make(monkeypatch, path, resume=True, first_discr=0x500)
    s = second.running["b1"].session
    assert second.states() == {"b1": State.UP} and s.local_discr == 0x100
    pkt = decode(socks[0].sent[0][0])  # a packet at once, Up, the old discriminators
    assert (pkt.state, pkt.my_discr, pkt.your_discr, pkt.diag) == (State.UP, 0x100, PEER, Diag.NONE)
    assert pkt.desired_min_tx_us == 50_000
    assert reports == [("b1", True, True, False)]  # never Down
    assert s.detect_us == 150_000 and s.local_tx_us == 50_000
    # the peer still Up: its packets (to our old discriminator) keep the session Up
    second.handle_datagram(Datagram(encode(ControlPacket(
        state=State.UP, my_discr=PEER, your_discr=0x100, detect_mult=3,
        desired_min_tx_us=50_000, required_min_rx_us=50_000)), SRC, DST, 255, False))
    assert second.states() == {"b1": State.UP} and reports == [("b1", True, True, False)]


def test_peer_down_meanwhile_brings_the_resumed_session_down(monkeypatch, tmp_path):
    path = tmp_path / "bfd.pid.state"
    first, _, _ = make(monkeypatch, path, resume=False, first_discr=0x100)
    bring_up(first)
    second, socks, reports = make(monkeypatch, path, resume=True, first_discr=0x500)
    second.handle_datagram(Datagram(encode(ControlPacket(
        state=State.DOWN, my_discr=PEER + 1, your_discr=0, diag=Diag.EXPIRED, detect_mult=3,
        desired_min_tx_us=1_000_000, required_min_rx_us=50_000)), SRC, DST, 255, False))
    assert second.states() == {"b1": State.DOWN}
    assert reports == [("b1", True, True, False), ("b1", False, True, False)]
    assert StateFile(path).load() == {}  # no longer Up: nothing to resume


def test_silence_expires_the_resumed_session(monkeypatch, tmp_path):
    path = tmp_path / "bfd.pid.state"
    first, _, _ = make(monkeypatch, path, resume=False, first_discr=0x100)
    bring_up(first)
    second, socks, reports = make(monkeypatch, path, resume=True, first_discr=0x500)
    r = second.running["b1"]
    due = r.session.expire_at
    assert due == second.now_us() + 150_000
    second.clock.advance(0.15)
    second._fire(r, due)
    assert second.states() == {"b1": State.DOWN} and reports[-1] == ("b1", False, True, False)
    assert decode(socks[0].sent[-1][0]).diag == Diag.EXPIRED


def test_changed_config_or_no_resume_starts_down(monkeypatch, tmp_path, caplog):
    path = tmp_path / "bfd.pid.state"
    first, _, _ = make(monkeypatch, path, resume=False, first_discr=0x100)
    bring_up(first)
    saved = path.read_text()
    with caplog.at_level(logging.INFO, logger="bfd-test"):
        changed, socks, reports = make(monkeypatch, path, resume=True, first_discr=0x500, p=plan(100_000))
    assert changed.states() == {"b1": State.DOWN} and reports == [("b1", False, True, False)]
    assert decode(socks[0].sent[0][0]).my_discr == 0x500
    assert "(b1) not resuming the previous bfd process's session: its configuration changed" in caplog.text
    path.write_text(saved)
    fresh, _, reports = make(monkeypatch, path, resume=False, first_discr=0x500)
    assert fresh.states() == {"b1": State.DOWN} and reports == [("b1", False, True, False)]


def test_stop_forgets_quiet_stop_keeps(monkeypatch, tmp_path):
    path = tmp_path / "bfd.pid.state"
    run, _, _ = make(monkeypatch, path, resume=False, first_discr=0x100)
    bring_up(run)
    asyncio.run(run.stop(quiet=True))
    assert StateFile(path).load()["b1"]["local_discr"] == 0x100
    run, _, _ = make(monkeypatch, path, resume=True, first_discr=0x500)
    asyncio.run(run.stop())
    assert StateFile(path).load() == {}


def test_may_resume_rules():
    s = SessionConfig("b1")
    p = InstancePlan(s, Endpoint(SRC, DST), True, False)
    cfg = resuming.digest(p)
    rec = {"state": "UP", "config": cfg, "local_discr": 1, "remote_discr": 2, "remote_min_tx_us": 3,
           "remote_min_rx_us": 4, "remote_mult": 3}
    assert resuming.may_resume(rec, cfg)[0]
    assert not resuming.may_resume({**rec, "state": "DOWN"}, cfg)[0]
    assert not resuming.may_resume({**rec, "remote_discr": 0}, cfg)[0]
    assert not resuming.may_resume({**rec, "local_discr": "x"}, cfg)[0]
    assert not resuming.may_resume(rec, resuming.digest(InstancePlan(s, Endpoint(SRC), True, False)))[0]
    assert not resuming.may_resume(None, cfg)[0]
