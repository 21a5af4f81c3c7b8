"""A MASTER schedules each advert from the previous deadline, not from when the timer
fired: with any lateness below one interval the k-th advert's deadline is start + k *
interval (no drift); a loop late past the next deadline re-anchors to now. Timing rules
that depend on lateness (timer_expired_backup, garp refresh) still hold."""

from __future__ import annotations

from ipaddress import ip_address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keepalived_py.vrrp.actions import SendAdvert, SendGarp, SetTimer
from keepalived_py.vrrp.events import Start, TimerExpired
from keepalived_py.vrrp.machine import ADVERT_TIMER, State, VrrpInstance
from keepalived_py.vrrp.params import VrrpInstanceParams

T0 = 1000.0


def owner(advert_s: float = 1.0, version: int = 2, **kw) -> VrrpInstance:
    p = VrrpInstanceParams(name="VI_1", interface="eth0", vrid=51, primary_address=ip_address("192.0.2.1"),
                           priority=255, version=version, advert_int_s=advert_s,
                           virtual_ipaddress=(ip_address("192.0.2.100"),), **kw)
    inst = VrrpInstance(p, created_at=T0)
    inst.handle(Start(), T0)
    assert inst.state == State.MASTER
    return inst


def advert_timer(actions) -> float | None:
    sets = [a.at for a in actions if isinstance(a, SetTimer) and a.timer == ADVERT_TIMER]
    assert len(sets) == 1, actions
    return sets[0]


@settings(max_examples=60, deadline=None)
@given(adv_cs=st.sampled_from([10, 100, 300]),
       late=st.lists(st.floats(min_value=0.0, max_value=0.95), min_size=1, max_size=40))
def test_kth_deadline_is_start_plus_k_intervals(adv_cs, late):
    adv = adv_cs / 100
    inst = owner(adv, version=3 if adv_cs < 100 else 2)
    assert inst.sands == pytest.approx(T0 + adv)
    for k, frac in enumerate(late, start=1):
        due = inst.sands
        assert due == pytest.approx(T0 + k * adv, abs=1e-9)
        acts = inst.handle(TimerExpired(ADVERT_TIMER), due + frac * adv)
        assert any(isinstance(a, SendAdvert) for a in acts)
        assert advert_timer(acts) == pytest.approx(T0 + (k + 1) * adv, abs=1e-9)


def test_late_past_next_deadline_reanchors_to_now():
    inst = owner(1.0)
    fired = T0 + 1.0 + 1.3  # the loop stalled 1.3 s: the 2nd deadline (T0 + 2) is gone too
    acts = inst.handle(TimerExpired(ADVERT_TIMER), fired)
    assert any(isinstance(a, SendAdvert) for a in acts)
    assert advert_timer(acts) == pytest.approx(fired + 1.0)
    # and from there on the grid is the new anchor's
    acts = inst.handle(TimerExpired(ADVERT_TIMER), fired + 1.0 + 0.4)
    assert advert_timer(acts) == pytest.approx(fired + 2.0)


def test_exactly_on_next_deadline_reanchors():
    inst = owner(1.0)
    acts = inst.handle(TimerExpired(ADVERT_TIMER), T0 + 2.0)
    assert advert_timer(acts) == pytest.approx(T0 + 3.0)


def test_early_fire_is_ignored():
    inst = owner(1.0)
    assert inst.handle(TimerExpired(ADVERT_TIMER), T0 + 0.5) == []
    assert inst.sands == pytest.approx(T0 + 1.0)


def test_rebase_moves_the_anchor():
    """runtime._arm_deferred fires the first advert after the addresses are set: the
    grid counts from the deadline it really used."""
    inst = owner(1.0)
    inst.rebase_timer(ADVERT_TIMER, T0 + 1.004)
    acts = inst.handle(TimerExpired(ADVERT_TIMER), T0 + 1.0045)
    assert advert_timer(acts) == pytest.approx(T0 + 2.004)


def test_timer_expired_backup_still_judged_on_the_deadline():
    """keepalived's late takeover: 2 intervals + the other router's skew past the due time
    means a BACKUP took over; a deadline grid does not change that judgement."""
    inst = owner(1.0, timer_expired_backup=100)
    for k in range(1, 4):
        inst.handle(TimerExpired(ADVERT_TIMER), T0 + k + 0.2)
    due = inst.sands
    acts = inst.handle(TimerExpired(ADVERT_TIMER), due + 2.0 + 156 / 256 + 0.01)
    assert inst.state == State.BACKUP
    assert not any(isinstance(a, SendAdvert) for a in acts)


def test_garp_refresh_still_follows():
    inst = owner(1.0, garp_master_refresh_s=5.0)
    garps = []
    for k in range(1, 12):
        acts = inst.handle(TimerExpired(ADVERT_TIMER), T0 + k + 0.01)
        if any(isinstance(a, SendGarp) for a in acts):
            garps.append(k)
    assert garps == [5, 10]


def test_slot_deadline_grid():
    """10 ms steps at advert_int 1 s, 1% of the interval below that; a deadline already on
    the grid stays (integer microseconds: no float step past it); never more than a step later."""
    from keepalived_py.vrrp.timers import slot_deadline

    assert slot_deadline(1004.7, 1_000_000) == pytest.approx(1004.7, abs=1e-9)
    assert slot_deadline(1004.7001, 1_000_000) == pytest.approx(1004.71, abs=1e-9)
    assert slot_deadline(1004.7001, 100_000) == pytest.approx(1004.701, abs=1e-9)
    assert slot_deadline(1004.70001, 10_000) == pytest.approx(1004.7001, abs=1e-9)
    assert slot_deadline(1004.7001, 50) == 1004.7001  # under 100 us: no grid
    assert slot_deadline(1004.7001, 1_000_000, skip=3) == pytest.approx(1004.713, abs=1e-9)  # spill: 1 ms
    for k in range(1000):
        at = 123456.789 + k * 0.000037
        assert at - 1e-6 <= slot_deadline(at, 1_000_000) < at + 0.010
