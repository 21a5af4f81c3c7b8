"""interface_up_down_delays as keepalived 2.2.7 debounces links. The log lines and the
order are keepalived's own, seen in a netns on the same config (`vc 2 1`, vc tracked):
carrier lost and back within the delay -> one 'Adding flags change' line and nothing
else; down -> 'Adding ... delay by 2000000', 2 s later 'Netlink reports vc down' and
FAULT; up -> 'delay by 1000000', 1 s later 'Netlink reports vc up'; a flags change of the
same direction while pending (promisc on) only updates the pending flags."""

from __future__ import annotations

import asyncio

from keepalived_py.clock import FakeClock
from keepalived_py.config import load_text
from keepalived_py.net.ports import LinkEvent
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.link_delays import LinkDelays
from tests.fakes.clock import FakeScheduler
from tests.unit.vrrpd.test_runtime import Rig

UP, NO_CARRIER, DOWN = 0x11043, 0x1003, 0x1002


class Harness:
    def __init__(self, delays: str = "vc 2 1") -> None:
        self.clock = FakeClock()
        self.sched = FakeScheduler(self.clock)
        self.lines: list[str] = []
        self.applied: list[tuple[str, bool]] = []
        self.d = LinkDelays(self.sched, self.clock, self.lines.append, lambda i, up: self.applied.append((i, up)))
        self.d.configure(load_text(f"interface_up_down_delays {{\n {delays}\n}}\n").config)
        self.d.known("vc", UP)


def test_a_blip_shorter_than_the_delay_is_ignored_silently():
    h = Harness()
    assert not h.d.offer("vc", NO_CARRIER)
    h.sched.advance(0.5)
    assert not h.d.offer("vc", UP)
    h.sched.advance(5)
    assert h.lines == ["vc: Adding flags change from 0x11043 to 0x1003 delay by 2000000"]
    assert h.applied == []


def test_down_then_up_each_after_its_own_delay():
    h = Harness()
    assert not h.d.offer("vc", DOWN)
    h.sched.advance(1.9)
    assert h.applied == []
    h.sched.advance(0.2)
    assert h.applied == [("vc", False)]
    assert not h.d.offer("vc", UP)
    h.sched.advance(1.1)
    assert h.applied == [("vc", False), ("vc", True)]
    assert h.lines == ["vc: Adding flags change from 0x11043 to 0x1002 delay by 2000000",
                       "vc: Adding flags change from 0x1002 to 0x11043 delay by 1000000"]


def test_same_direction_updates_the_pending_flags_other_direction_cancels_with_a_line():
    h = Harness()
    h.d.offer("vc", DOWN)
    h.d.offer("vc", DOWN | 0x100)  # promisc on, still down
    h.sched.advance(2.1)
    assert h.applied == [("vc", False)] and h.d.flags["vc"] == DOWN | 0x100
    h.d.offer("vc", UP)
    assert not h.d.offer("vc", UP | 0x100)  # up again, other flags: same direction, pending updated
    assert not h.d.offer("vc", DOWN)  # back to down with flags not those acted on: cancelled
    h.sched.advance(5)
    assert h.applied == [("vc", False)]
    assert h.lines[-1] == "Delay timer for vc cancelled"


def test_no_delay_a_recreated_link_or_one_never_seen_up_acts_at_once():
    h = Harness("vc 0 1")
    assert h.d.offer("vc", DOWN)  # down delay 0
    assert h.d.offer("vc", UP, immediate=True)
    h.d.known("vd", DOWN)
    h.d.delays["vd"] = (2.0, 2.0)
    assert h.d.offer("vd", UP)  # never seen up: keepalived's seen_up
    assert h.lines == []


def test_the_runtime_debounces_a_tracked_interface():
    conf = """
interface_up_down_delays {
    eth1 2 1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    track_interface {
        eth1
    }
    virtual_ipaddress {
        192.0.2.100/24
    }
}
"""

    async def go():
        r = Rig()
        rt = await r.start(load_text(conf).config)
        await r.advance(4.0)
        assert rt.state_of("VI_1") == State.MASTER
        rt.on_link_event(LinkEvent("eth1", r.net.links["eth1"].index, False, flags=DOWN))
        await r.advance(1.5)
        assert rt.state_of("VI_1") == State.MASTER  # still within the down delay
        await r.advance(1.0)
        assert rt.state_of("VI_1") == State.FAULT
        rt.on_link_event(LinkEvent("eth1", r.net.links["eth1"].index, True, flags=UP))
        await r.advance(0.5)
        assert rt.state_of("VI_1") == State.FAULT
        await r.advance(1.0)
        assert rt.state_of("VI_1") != State.FAULT
        await rt.stop()
    asyncio.run(go())


def test_netlink_reports_only_interfaces_an_instance_tracks(caplog):
    # keepalived logs 'Netlink reports' only when the interface has tracking_vrrp
    async def go():
        r = Rig()
        r.net.add_link("eth2")
        rt = await r.start(load_text("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n"
                                     " priority 100\n virtual_ipaddress {\n 192.0.2.100/24\n }\n}\n").config)
        index = r.net.links["eth2"].index
        for up in (False, True, False):
            rt.on_link_event(LinkEvent("eth2", index, up, flags=UP if up else DOWN))
        rt.on_link_event(LinkEvent("eth0", r.net.links["eth0"].index, False, flags=DOWN))
        await rt.stop()
    with caplog.at_level("INFO"):
        asyncio.run(go())
    reports = [m for m in caplog.messages if m.startswith("Netlink reports")]
    assert reports == ["Netlink reports eth0 down"]


def test_an_instance_s_own_interface_delays_are_cut_below_its_down_timer():
    # keepalived 2.2.7 on `va 5 5`, advert_int 1: the line below, then 'delay by 1996094'
    from keepalived_py.vrrpd.plan import plan_all

    conf = ("interface_up_down_delays {{\n eth0 5 5\n eth1 5 5\n}}\n"
            "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n priority 100\n{extra}"
            " virtual_ipaddress {{\n 192.0.2.100/24\n }}\n}}\n")
    h = Harness()
    config = load_text(conf.format(extra="")).config
    h.d.configure(config, plan_all(config).values())
    assert h.d.delays == {"eth0": (1.996094, 1.996094), "eth1": (5.0, 5.0)}  # eth1: not its own
    assert h.lines == ["VI_1: interface eth0 debounce timer(s) not less that 2 * advert_int - resetting"]
    h.d.known("eth0", UP)
    h.d.offer("eth0", DOWN)
    assert h.lines[-1] == "eth0: Adding flags change from 0x11043 to 0x1002 delay by 1996094"
    config = load_text(conf.format(extra=" down_timer_adverts 1\n")).config
    h.d.configure(config, plan_all(config).values())
    assert h.d.delays["eth0"] == (0.0, 0.0)
    assert h.lines[-1] == "VI_1: cannot use debounce timers with down_timer_adverts = 1 - resetting"
