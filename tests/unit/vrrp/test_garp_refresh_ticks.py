"""garp_master_refresh counts in advert ticks: with the ticks on a fixed grid (adverts from
their deadlines), a refresh 3 s after a tick that ran late must still come 3 ticks later,
not one tick after that (the lab saw 3.0 s then 7.0 s against keepalived's 3.0 and 6.0)."""

from __future__ import annotations

from keepalived_py.vrrp.actions import SendGarp
from keepalived_py.vrrp.events import TimerExpired
from keepalived_py.vrrp.machine import ADVERT_TIMER
from tests.unit.vrrp.test_machine_deadlines import T0, owner


def test_refresh_every_third_tick_whatever_each_tick_lateness():
    inst = owner(1.0, garp_master_refresh_s=3.0)
    late = {1: 0.002, 2: 0.001, 3: 0.013, 4: 0.0, 5: 0.004, 6: 0.001, 7: 0.0, 8: 0.0, 9: 0.0}
    garps = []
    for k in range(1, 10):
        acts = inst.handle(TimerExpired(ADVERT_TIMER), T0 + k + late[k])
        if any(isinstance(a, SendGarp) for a in acts):
            garps.append(k)
    assert garps == [3, 6, 9]
