"""Static track groups (keepalived 2.2.7 static_track_group_init): the members of a
track_group track, at weight 0, the interface of each static address / route / rule naming
the group; keepalived's start lines for groups without members and for no_track entries
(seen in its log beside ours for the same config in a netns, where d2 going down put the
member in FAULT under both)."""

from __future__ import annotations

from keepalived_py.config import load_text
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.plan import default_interface, plan_all
from keepalived_py.vrrpd.static_track import static_tracking
from tests.unit.vrrpd.test_runtime import Rig, run

CONF = """
track_group TG {
    group {
        VI_1
        NOPE
    }
}
track_group EMPTY {
    group {
        NOPE2
    }
}
static_ipaddress {
    198.51.100.5/24 dev eth1 track_group TG
    198.51.100.6/24 dev eth3 track_group TG no_track
    198.51.100.7/24 track_group TG
}
static_routes {
    203.0.113.0/24 via 198.51.100.1 dev eth1 track_group TG
}
static_rules {
    from 203.0.113.0/24 table 100 iif eth2 preference 100 track_group TG
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    track_interface {
        eth2 weight 20
    }
    virtual_ipaddress {
        192.0.2.10/32
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.11/32
    }
}
"""


def test_members_track_the_entries_interfaces_with_keepalived_lines():
    config = load_text(CONF).config
    tracked, lines = static_tracking(config, default_interface(config))
    assert tracked == {"VI_1": ("eth1", "eth0", "eth2")}  # addresses (no dev: eth0), routes, rules
    assert lines == [
        "vrrp instance NOPE specified in track group TG doesn't exist - ignoring",
        "vrrp instance NOPE2 specified in track group EMPTY doesn't exist - ignoring",
        "Static track group EMPTY has no VRRP instance(s)",
        "Static track group EMPTY init fails - removing",
        "Static address has both track_group and no_track set - not tracking",
    ]


def test_plan_tracks_them_at_weight_0_replacing_a_weighted_line():
    plans = {p.name: p for p in plan_all(load_text(CONF).config).values()}
    assert [(o.name, o.weight) for o in plans["VI_1"].tracked if o.kind == "interface"] == [
        ("eth2", 0), ("eth1", 0), ("eth0", 0)]
    assert not [o for o in plans["VI_2"].tracked if o.kind == "interface"]


def test_the_entrys_interface_down_faults_the_member():
    async def go():
        r = Rig()
        r.net.add_link("eth2")
        await r.start(load_text(CONF).config)
        await r.advance(4)
        before = {n: r.rt.by_name[n].machine.state for n in ("VI_1", "VI_2")}
        r.net.set_link("eth1", up=False)
        await r.advance(0.1)
        return before, {n: r.rt.by_name[n].machine.state for n in ("VI_1", "VI_2")}
    before, after = run(go())
    assert before == {"VI_1": State.MASTER, "VI_2": State.MASTER}
    assert after == {"VI_1": State.FAULT, "VI_2": State.MASTER}


def test_dash_t_no_longer_lists_track_group():
    assert not [x for x in load_text(CONF).not_implemented if "track_group" in x]
