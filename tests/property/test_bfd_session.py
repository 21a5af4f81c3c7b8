"""Properties of the BFD state machine on a fake link and clock (microseconds).

- Two sessions with any intervals, multipliers, link delay and jitter come Up without
  flapping, finish their poll sequences and agree: each transmits at max(own min_tx, peer's min_rx), and
  each detection time is exactly the peer's multiplier x max(own min_rx, peer's min_tx).
- Every periodic gap lies in 75-100 % of the negotiated interval (75-90 % at multiplier 1).
- Whatever packets arrive in whatever order, the session keeps its invariants: an Up or
  Init session has a detection deadline, a Down one has none, and no packet it builds
  carries Poll and Final together.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from keepalived_py.bfd.packet import ControlPacket, Diag, State
from keepalived_py.bfd.session import Session, SessionConfig
from tests.unit.bfd.link import Link

MS = 1000


@st.composite
def configs(draw: st.DrawFn, name: str) -> SessionConfig:
    return SessionConfig(name, min_tx_us=draw(st.integers(10, 300)) * MS, min_rx_us=draw(st.integers(10, 300)) * MS,
                         idle_tx_us=draw(st.integers(1000, 2000)) * MS, multiplier=draw(st.integers(1, 8)))


@settings(max_examples=25, deadline=None)
@given(configs("a"), configs("b"), st.integers(0, 5000), st.integers(0, 2**32))
def test_any_pair_comes_up_and_agrees(a: SessionConfig, b: SessionConfig, delay: int, seed: int) -> None:
    rng = random.Random(seed)
    link = Link(a, b, delay_us=delay, rand=rng.randint)
    link.start()
    link.run_until(8_000 * MS)
    sa, sb = link.sessions["a"], link.sessions["b"]
    assert sa.state == sb.state == State.UP
    assert not sa.poll and not sb.poll
    assert sa.counters.down_events == sb.counters.down_events == 0  # no flap on the way
    assert sa.local_tx_us == max(a.min_tx_us, b.min_rx_us)
    assert sb.local_tx_us == max(b.min_tx_us, a.min_rx_us)
    assert sa.detect_us == b.multiplier * max(a.min_rx_us, b.min_tx_us)
    assert sb.detect_us == a.multiplier * max(b.min_rx_us, a.min_tx_us)
    for side, cfg, s in (("a", a, sa), ("b", b, sb)):
        steady = [t for t, p in link.sent[side][-40:] if p.state == State.UP and not p.final and not p.poll]
        low, high = 75, (100 if cfg.multiplier > 1 else 90)
        for x, y in zip(steady[-10:], steady[-9:], strict=False):
            assert low * s.local_tx_us // 100 <= y - x <= high * s.local_tx_us // 100 + 1


packets = st.builds(
    ControlPacket, state=st.sampled_from(list(State)), my_discr=st.integers(1, 5),
    your_discr=st.sampled_from([0, 7]), diag=st.sampled_from(list(Diag)), detect_mult=st.integers(1, 5),
    desired_min_tx_us=st.integers(0, 2_000_000), required_min_rx_us=st.integers(0, 2_000_000),
    poll=st.booleans(), demand=st.booleans())
steps = st.lists(st.tuples(st.integers(0, 400_000), st.one_of(st.none(), packets)), max_size=60)


@settings(max_examples=150, deadline=None)
@given(steps, st.booleans())
def test_invariants_under_any_input(seq: list, passive: bool) -> None:
    cfg = SessionConfig("x", min_tx_us=50 * MS, min_rx_us=50 * MS, idle_tx_us=1000 * MS, multiplier=3,
                        passive=passive)
    s = Session(cfg, 7, lambda lo, hi: lo, new_discr=lambda: 8)
    s.start(0)
    now = 0
    for advance, pkt in seq:
        now += advance
        if pkt is None:
            due = s.next_deadline()
            if due is not None:
                now = max(now, due)
            s.on_timer(now)
        else:
            s.receive(pkt, now)
        built = s.build()
        assert not (built.poll and built.final)
        if s.state in (State.UP, State.INIT):
            assert s.expire_at is not None and s.expire_at >= now
        else:
            assert s.expire_at is None
        if s.state != State.UP:
            assert built.desired_min_tx_us == cfg.idle_tx_us
        assert s.local_discr in (7, 8)
