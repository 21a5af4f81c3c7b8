"""The runtime times each advert against its deadline: a loop that wakes late every time
neither stretches the intervals (the deadlines stay on the start + k * interval grid) nor
goes unmeasured (the lateness histograms count each advert and master-down expiry)."""

from __future__ import annotations

import pytest

from keepalived_py.vrrp.machine import State
from tests.unit.vrrpd.test_runtime import Rig, conf, run

LATE = 0.00025  # every timer callback runs this long after its deadline


class LateClock:
    """The runtime's view of time: the scheduler's fake clock, read LATE after each wake."""

    def __init__(self, base) -> None:
        self.base = base

    def now(self) -> float:
        return self.base.now() + LATE


def test_master_adverts_stay_on_the_grid_and_lateness_is_counted():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255))
        assert rt.state_of("VI_1") == State.MASTER
        start = rt.by_name["VI_1"].machine.sands - 1.0
        rt.clock = LateClock(r.clock)
        for k in range(1, 21):
            await r.advance(1.0)
            assert rt.by_name["VI_1"].machine.sands == pytest.approx(start + (k + 1) * 1.0, abs=1e-9)
        v = rt.lateness_advert.view()
        assert v.count == 20
        assert v.sum == pytest.approx(20 * LATE, rel=1e-3)
        assert 0.0002 <= v.quantile(0.5) <= 0.0003
        assert rt.lateness_master_down.view().count == 0
        await rt.stop()
    run(go())


def test_master_down_expiry_is_counted_apart():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=100))
        rt.clock = LateClock(r.clock)
        await r.advance(3.7)  # Master_Down_Interval 3.609 s
        assert rt.state_of("VI_1") == State.MASTER
        md = rt.lateness_master_down.view()
        assert md.count == 1 and md.sum == pytest.approx(LATE, rel=1e-3)
        assert rt.lateness_advert.view().count == 0
        await rt.stop()
    run(go())


SECOND = """
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 255
    advert_int 1
    virtual_ipaddress {
        192.0.2.101/24
    }
}
"""


def test_instances_anchored_together_share_the_advert_slot():
    """The first advert deadline after a master transition goes onto a 10 ms grid
    (vrrp/timers.slot_deadline): two owners whose addresses are set at 1000.0033 get
    1001.01 (not 1001.0033), so do any anchored before 1000.01, and they keep sharing it:
    one wake-up for all; only the first interval is longer (< 10 ms)."""
    async def go():
        r = Rig()
        r.clock.set(1000.0033)
        rt = await r.start(conf(prio=255, more=SECOND))
        one, two = rt.by_name["VI_1"].machine, rt.by_name["VI_2"].machine
        assert one.state == two.state == State.MASTER
        assert one.sands == two.sands == pytest.approx(1001.01, abs=1e-9)
        for _ in range(3):
            await r.advance(1.0)
            assert one.sands == two.sands
        assert one.sands == pytest.approx(1003.01, abs=1e-9)
        await rt.stop()
    run(go())


def test_a_full_slot_sends_the_next_instances_to_the_next_one():
    """At most SLOT_CAP instances anchored together share a slot: the last of a batch
    waits for the ones before it, so the batch is bounded; the next go a spill step (1 ms) on."""
    from collections import Counter

    from keepalived_py.vrrpd.timers import SLOT_CAP

    more = "".join(SECOND.replace("VI_2", f"VI_{n}").replace("52", str(50 + n))
                   .replace("192.0.2.101", f"192.0.2.{100 + n}") for n in range(2, 11))

    async def go():
        r = Rig()
        r.clock.set(1000.0033)
        rt = await r.start(conf(prio=255, more=more))
        assert all(run_.machine.state == State.MASTER for run_ in rt.by_name.values())
        slots = Counter(round(run_.machine.sands, 6) for run_ in rt.by_name.values())
        await rt.stop()
        return slots

    full, rest = divmod(10, SLOT_CAP)
    want = {round(1001.01 + 0.001 * k, 6): SLOT_CAP for k in range(full)}  # 1 ms spill steps
    if rest:
        want[round(1001.01 + 0.001 * full, 6)] = rest
    assert run(go()) == want
