"""The RFC 5880 state machine with an injected clock: transitions, timers, poll/final."""

from __future__ import annotations

import pytest

from keepalived_py.bfd.packet import ControlPacket, Diag, DropReason, State
from keepalived_py.bfd.session import (
    Dropped,
    Log,
    Report,
    Session,
    SessionConfig,
    Transmit,
)
from tests.unit.bfd.link import Link, lowest

MS = 1000
FAST = SessionConfig("fast", min_tx_us=50 * MS, min_rx_us=50 * MS, idle_tx_us=1000 * MS, multiplier=3)


def session(cfg: SessionConfig = FAST, state: State = State.DOWN) -> Session:
    s = Session(cfg, 0x11111111, lowest, new_discr=lambda: 0x22222222)
    s.state = state
    if state in (State.INIT, State.UP):
        s.remote_discr = 0x33333333
        s.remote_state = State.UP if state == State.UP else State.DOWN
        s.remote_mult, s.remote_tx_us, s.detect_us = 3, 50 * MS, 150 * MS
        s.expire_at = 150 * MS
        s.local_tx_us = 50 * MS
    return s


def peer(state: State, **kw: object) -> ControlPacket:
    base = dict(state=state, my_discr=0x33333333,
                your_discr=0 if state in (State.DOWN, State.ADMIN_DOWN) else 0x11111111,
                detect_mult=3, desired_min_tx_us=50 * MS, required_min_rx_us=50 * MS)
    base.update(kw)
    return ControlPacket(**base)  # type: ignore[arg-type]


def of(kind: type, actions: list) -> list:
    return [a for a in actions if isinstance(a, kind)]


# RFC 5880 section 6.8.6, the state table: (local, remote) -> (new local, diag on Down)
TABLE = [
    (State.DOWN, State.ADMIN_DOWN, State.DOWN, None),
    (State.DOWN, State.DOWN, State.INIT, None),
    (State.DOWN, State.INIT, State.UP, None),
    (State.DOWN, State.UP, State.DOWN, None),
    (State.INIT, State.ADMIN_DOWN, State.DOWN, Diag.NEIGHBOR_DOWN),
    (State.INIT, State.DOWN, State.INIT, None),
    (State.INIT, State.INIT, State.UP, None),
    (State.INIT, State.UP, State.UP, None),
    (State.UP, State.ADMIN_DOWN, State.DOWN, Diag.NEIGHBOR_DOWN),
    (State.UP, State.DOWN, State.DOWN, Diag.NEIGHBOR_DOWN),
    (State.UP, State.INIT, State.UP, None),
    (State.UP, State.UP, State.UP, None),
]


@pytest.mark.parametrize(("local", "remote", "expect", "diag"), TABLE)
def test_state_table(local, remote, expect, diag):
    s = session(state=local)
    your = 0x11111111 if remote in (State.INIT, State.UP) else 0
    actions = s.receive(peer(remote, your_discr=your), 10 * MS)
    assert s.state == expect
    if diag is not None:
        assert s.local_diag == diag
    reports = of(Report, actions)
    if expect == State.UP and local != State.UP:
        assert reports == [Report("fast", True)]
    elif local == State.UP and expect == State.DOWN and remote != State.ADMIN_DOWN:
        assert reports == [Report("fast", False)]
    else:  # Down from AdminDown peers is not an event (keepalived's bfd_state_fall)
        assert reports == []


def test_admin_down_discards_everything():
    s = session()
    s.admin_down(0)
    for remote in State:
        assert s.receive(peer(remote), 0) == [Dropped(DropReason.ADMIN_DOWN)]
    assert s.state == State.ADMIN_DOWN and s.local_diag == Diag.ADMIN_DOWN
    assert s.tx_at is None


def test_auth_section_is_refused_without_authentication():
    s = session()
    assert s.receive(peer(State.DOWN, auth=b"\x01\x05\x01ab"), 0) == [Dropped(DropReason.AUTH)]
    assert s.state == State.DOWN and s.counters.rx == 0


@pytest.mark.parametrize("local", [State.INIT, State.UP])
def test_expiry_goes_down_with_diag_1(local):
    s = session(state=local)
    s.receive(peer(State.UP if local == State.UP else State.DOWN), 0)
    deadline = s.expire_at
    assert deadline == 3 * 50 * MS
    assert s.on_timer(deadline - 1) == [] or s.state == local
    assert s.state == local
    actions = s.on_timer(deadline)
    assert s.state == State.DOWN and s.local_diag == Diag.EXPIRED
    assert s.remote_discr == 0
    assert of(Report, actions) == ([Report("fast", False)] if local == State.UP else [])
    if local == State.UP:
        assert any("Expired after 150 ms (0 usec overdue)" in a.text for a in of(Log, actions))
        assert s.local_discr == 0x22222222  # a new discriminator after leaving Up
    assert s.build().diag == Diag.EXPIRED and s.build().state == State.DOWN


def test_handshake_comes_up_and_negotiates():
    a = SessionConfig("a", min_tx_us=50 * MS, min_rx_us=80 * MS, idle_tx_us=1000 * MS, multiplier=3)
    b = SessionConfig("b", min_tx_us=30 * MS, min_rx_us=60 * MS, idle_tx_us=1000 * MS, multiplier=4)
    link = Link(a, b)
    link.start()
    link.run_until(3000 * MS)
    sa, sb = link.sessions["a"], link.sessions["b"]
    assert sa.state == sb.state == State.UP
    assert link.reports["a"][-1][1] and link.reports["b"][-1][1]
    # RFC 5880 6.8.2/6.8.3: tx = max(own desired min tx, peer's required min rx)
    assert sa.local_tx_us == max(50, 60) * MS and sb.local_tx_us == max(30, 80) * MS
    # 6.8.4: detection = peer's multiplier x max(own required min rx, peer's desired min tx)
    assert sa.detect_us == 4 * max(80, 30) * MS
    assert sb.detect_us == 3 * max(60, 50) * MS
    assert not sa.poll and not sb.poll
    assert sa.counters.polls_done == 1 and sb.counters.polls_done == 1


def test_poll_on_up_and_final_terminates_it():
    link = Link(FAST, FAST)
    link.start()
    link.run_until(3000 * MS)
    sent = link.sent["a"]
    polls = [(t, p) for t, p in sent if p.poll]
    finals_b = [(t, p) for t, p in link.sent["b"] if p.final]
    assert polls and finals_b
    # The first P from a: Up, desired min tx already the fast one, answered at once
    t_poll, first = polls[0]
    assert first.state == State.UP and first.desired_min_tx_us == 50 * MS
    assert finals_b[0][0] == t_poll + link.delay_us
    assert not any(p.poll and p.final for _, p in sent + link.sent["b"])
    # before F arrived a sent at the idle rate; afterwards at 50 ms
    after = [t for t, p in sent if t > finals_b[0][0] + link.delay_us and not p.final]
    gaps = {b - a for a, b in zip(after, after[1:], strict=False)}
    assert gaps == {50 * MS}


def test_interval_change_while_up_uses_poll_before_taking_effect():
    link = Link(FAST, FAST)
    link.start()
    link.run_until(3000 * MS)
    sa = link.sessions["a"]
    slower = SessionConfig("fast", min_tx_us=200 * MS, min_rx_us=50 * MS, idle_tx_us=1000 * MS, multiplier=3)
    actions = sa.reconfigure(slower, link.now)
    assert sa.poll and any("Starting poll sequence" in a.text for a in of(Log, actions))
    assert sa.local_tx_us == 50 * MS  # unchanged until the Final arrives
    before = len(link.sent["a"])
    link.run_until(link.now + 2000 * MS)
    assert not sa.poll and sa.local_tx_us == 200 * MS
    assert link.sessions["b"].detect_us == 3 * 200 * MS
    assert any(p.poll for _, p in link.sent["a"][before:])
    assert sa.state == link.sessions["b"].state == State.UP


def test_peer_poll_is_answered_with_final_at_once():
    s = session(state=State.UP)
    actions = s.receive(peer(State.UP, poll=True, desired_min_tx_us=20 * MS), 5 * MS)
    tx = of(Transmit, actions)
    assert len(tx) == 1 and tx[0].packet.final and not tx[0].packet.poll
    assert s.remote_tx_us == 50 * MS  # max(own min rx 50, peer 20)
    assert not s.final  # one Final per Poll


def test_final_pending_sends_final_without_poll_and_keeps_polling():
    s = session(state=State.UP)
    s.poll = True
    tx = of(Transmit, s.receive(peer(State.UP, poll=True), 5 * MS))
    assert tx[0].packet.final and not tx[0].packet.poll
    assert s.poll and s.build().poll


def test_detection_time_is_multiplier_times_negotiated_interval_exactly():
    link = Link(FAST, FAST)
    link.start()
    link.run_until(3000 * MS)
    sa = link.sessions["a"]
    assert sa.detect_us == 3 * 50 * MS
    assert sa.expire_at - sa.last_rx == sa.detect_us
    link.kill("b")
    last = sa.last_rx
    link.run_until(last + sa.detect_us - 1)
    assert sa.state == State.UP
    link.run_until(last + sa.detect_us)
    assert sa.state == State.DOWN and sa.local_diag == Diag.EXPIRED
    assert link.reports["a"][-1] == (last + sa.detect_us, False)
    down = [(t, p) for t, p in link.sent["a"] if p.state == State.DOWN and p.diag == Diag.EXPIRED]
    assert down and down[0][0] == last + sa.detect_us


@pytest.mark.parametrize(("mult", "low_pct"), [(3, 0), (1, 10)])
def test_jitter_bounds(mult, low_pct):
    calls = []

    def record(lo: int, hi: int) -> int:
        calls.append((lo, hi))
        return hi

    cfg = SessionConfig("j", min_tx_us=100 * MS, min_rx_us=100 * MS, idle_tx_us=1000 * MS, multiplier=mult)
    s = Session(cfg, 1, record)
    assert s.jittered(100 * MS) == 75 * MS
    assert calls[-1] == (low_pct * MS, 25 * MS)
    s.rand = lambda lo, hi: lo
    assert s.jittered(100 * MS) == (100 - low_pct) * MS


def test_first_packet_at_once_then_jittered_idle_rate():
    s = Session(FAST, 7, lambda lo, hi: hi)
    actions = s.start(0)
    assert of(Report, actions) == [Report("fast", False)]
    tx = of(Transmit, actions)
    assert len(tx) == 1 and tx[0].packet.desired_min_tx_us == 1000 * MS and tx[0].packet.state == State.DOWN
    assert s.tx_at == 750 * MS  # idle 1 s less 25 %


def test_passive_waits_for_the_peer_and_stops_when_down():
    cfg = SessionConfig("p", min_tx_us=50 * MS, min_rx_us=50 * MS, idle_tx_us=1000 * MS, multiplier=3, passive=True)
    s = Session(cfg, 7, lowest, new_discr=lambda: 8)
    assert of(Transmit, s.start(0)) == [] and s.tx_at is None
    assert s.on_timer(10_000 * MS) == []
    s.receive(peer(State.DOWN, your_discr=0), 10 * MS)
    assert s.state == State.INIT and s.tx_at is not None
    s.receive(peer(State.UP, your_discr=7), 20 * MS)
    assert s.state == State.UP
    s.on_timer(s.expire_at)
    assert s.state == State.DOWN and s.tx_at is None


def test_no_periodic_packets_when_peer_requires_zero_rx():
    s = session(state=State.UP)
    s.receive(peer(State.UP, required_min_rx_us=0), 0)
    assert of(Transmit, s.on_timer(s.tx_at)) == []
    assert s.tx_at is not None  # the schedule continues


def test_remote_demand_stops_periodic_packets_when_both_up():
    s = session(state=State.UP)
    s.receive(peer(State.UP, demand=True), 0)
    assert s.tx_at is None
    s.receive(peer(State.DOWN, your_discr=0x11111111), 1)
    assert s.state == State.DOWN and s.tx_at is not None


def test_reset_after_a_detection_time_down_forgets_the_peer():
    s = session(state=State.UP)
    s.receive(peer(State.DOWN, your_discr=0x11111111), 0)
    assert s.state == State.DOWN and s.reset_at == 150 * MS
    assert s.remote_discr == 0x33333333
    s.on_timer(150 * MS)
    assert s.remote_discr == 0 and s.remote_state == State.DOWN and s.reset_at is None
    assert s.local_diag == Diag.NEIGHBOR_DOWN  # kept until the session rises again


def test_detection_time_change_is_logged_as_keepalived():
    s = session()
    actions = s.receive(peer(State.DOWN, desired_min_tx_us=1000 * MS), 0)
    assert Log("info", "       Detection time is 3000000 us (was 0 us)") in actions


def test_reconfigure_while_down_applies_without_poll_state_change():
    s = session()
    cfg = SessionConfig("fast", min_tx_us=50 * MS, min_rx_us=50 * MS, idle_tx_us=2000 * MS, multiplier=3)
    s.reconfigure(cfg, 0)
    assert s.local_tx_us == 2000 * MS and s.state == State.DOWN


def test_timer_dump_lines_when_the_peer_timers_change():
    s = session()
    actions = s.receive(peer(State.DOWN, desired_min_tx_us=1000 * MS), 0)
    detail = [a.text for a in of(Log, actions) if a.level == "detail"]
    pad = " " * len("(fast)")  # keepalived's "%*s" with strlen(iname) + 2
    assert detail[:4] == [
        "(fast) ---------------< Session parameters >--------------",
        pad + "          min_tx  min_rx  tx_intv  mult  detect_time",
        pad + " local   1000000   50000  1000000     3      3000000",
        pad + " remote  1000000   50000  1000000     3      3000000",
    ]
    again = s.receive(peer(State.DOWN, desired_min_tx_us=1000 * MS), 1)
    assert not any("Session parameters" in a.text for a in of(Log, again))
