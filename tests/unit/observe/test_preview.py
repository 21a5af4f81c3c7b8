"""The reload preview from the reload diff the vrrp child applies (pure, no daemon)."""

from __future__ import annotations

import asyncio

import pytest

from keepalived_py.config import load_text
from keepalived_py.observe.preview import preview_text, reload_plans, vrrp_preview
from keepalived_py.track.events import TrackingChanged
from keepalived_py.vrrpd.ops import RemoveRoute, RemoveRule
from keepalived_py.vrrpd.plan import plan_all, route_key, rule_key
from keepalived_py.vrrpd.reload import diff
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.unit.vrrpd.test_runtime import CONF as RCONF
from tests.unit.vrrpd.test_runtime import LOG, Rig
from tests.unit.vrrpd.test_runtime import conf as rconf

BASE = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {prio}
    virtual_ipaddress {{
{vips}
    }}
}}
"""
OTHER = """
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    virtual_ipaddress {
        192.0.2.200/24
    }
}
"""


def plans(prio=100, vips=("192.0.2.100/24",), more=""):
    text = BASE.format(prio=prio, vips="\n".join(f"        {v}" for v in vips)) + more
    return plan_all(load_text(text).config)


def test_unchanged_config_changes_nothing():
    p = vrrp_preview(plans(), plans(), {"VI_1": "MASTER"})
    assert p["changes"] is False
    assert p["instances"] == [{"name": "VI_1", "key": "eth0 vrid 51 IPv4", "action": "unchanged",
                               "state": "MASTER"}]
    assert "no change" in preview_text({"vrrp": p})


def test_changed_added_removed():
    old = plans(vips=("192.0.2.100/24", "192.0.2.101/24"), more=OTHER)
    new = plans(prio=90, vips=("192.0.2.100/24", "192.0.2.102/24"))
    p = vrrp_preview(old, new, {"VI_1": "MASTER", "VI_2": "BACKUP"})
    by = {i["name"]: i for i in p["instances"]}
    vi1, vi2 = by["VI_1"], by["VI_2"]
    assert vi1["action"] == "changed" and vi1["keeps_state"] and vi1["state"] == "MASTER"
    assert vi1["vips_added"] == ["192.0.2.102/24 dev eth0"]
    assert vi1["vips_removed"] == ["192.0.2.101/24 dev eth0"]
    assert "priority 100 -> 90" in vi1["settings"]
    assert vi2["action"] == "removed" and vi2["vips_removed"] == ["192.0.2.200/24 dev eth0"]
    back = vrrp_preview(new, old)
    assert {i["name"]: i["action"] for i in back["instances"]} == {"VI_1": "changed", "VI_2": "added"}
    text = preview_text({"vrrp": p, "config_file": "new.conf", "running_config": "old.conf"})
    assert "  ~ VI_1 (eth0 vrid 51 IPv4): changed, restarted in its current state (MASTER)" in text
    assert "      + VIP 192.0.2.102/24 dev eth0" in text and "      - VIP 192.0.2.101/24 dev eth0" in text
    assert "  - VI_2 (eth0 vrid 52 IPv4): removed" in text
    assert text.endswith("Nothing was applied.\n")


def test_address_option_change_is_a_remove_and_add():
    p = vrrp_preview(plans(vips=("192.0.2.100/24",)), plans(vips=("192.0.2.100/25",)))
    vi1 = p["instances"][0]
    assert vi1["vips_added"] == ["192.0.2.100/25 dev eth0"]
    assert vi1["vips_removed"] == ["192.0.2.100/24 dev eth0"]


ROUTED = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {{
        192.0.2.100/24
    }}
    virtual_routes {{
{routes}
    }}
    virtual_rules {{
{rules}
    }}
}}
"""


def routed(routes: tuple[str, ...], rules: tuple[str, ...]):
    text = ROUTED.format(routes="\n".join(f"        {r}" for r in routes),
                         rules="\n".join(f"        {r}" for r in rules))
    return plan_all(load_text(text).config)


def test_routes_and_rules_are_what_the_reload_releases_and_adds():
    """The preview's routes and rules removed are the reload diff's release (what the HUP
    takes away from a MASTER), and those added are what the replacement plan installs."""
    old = routed(("198.51.100.0/24 via 192.0.2.254 dev eth0", "203.0.113.0/24 dev eth0"),
                 ("from 192.0.2.100 table 100", "to 198.51.100.0/24 table 101"))
    new = routed(("198.51.100.0/24 via 192.0.2.254 dev eth0", "203.0.113.0/24 dev eth0 metric 5"),
                 ("from 192.0.2.100 table 100", "to 203.0.113.0/24 table 101"))
    vi1 = vrrp_preview(old, new, {"VI_1": "MASTER"})["instances"][0]
    (retire,) = diff(old, new).retire
    assert vi1["action"] == "changed" and vi1["vips_added"] == vi1["vips_removed"] == []
    assert vi1["routes_removed"] == [route_key(op.route) for op in retire.release if isinstance(op, RemoveRoute)] \
        == ["203.0.113.0/24 dev eth0"]
    assert vi1["rules_removed"] == [rule_key(op.rule) for op in retire.release if isinstance(op, RemoveRule)]
    assert len(vi1["rules_removed"]) == 1 and "198.51.100.0/24" in vi1["rules_removed"][0]
    new_plan = next(iter(new.values()))
    assert vi1["routes_added"] == [k for k in new_plan.routes if k not in next(iter(old.values())).routes] \
        == ["203.0.113.0/24 dev eth0 metric 5"]
    assert len(vi1["rules_added"]) == 1 and "203.0.113.0/24" in vi1["rules_added"][0]
    text = preview_text({"vrrp": vrrp_preview(old, new)})
    assert "      - route 203.0.113.0/24 dev eth0\n" in text and "      + route 203.0.113.0/24 dev eth0 metric 5\n" in text
    assert text.count("      - rule ") == 1 and text.count("      + rule ") == 1


TRACKED = """vrrp_script chk {
    script "/bin/true"
    interval 1
}
""" + RCONF.format(prio=180, extra="    track_script {\n        chk\n    }")

#: (first priority, time run before the HUP, state then, new config, keeps its state)
KEEPS = [
    (200, 3.7, "MASTER", RCONF.format(prio=180, extra=""), True),  # a priority change
    (200, 3.7, "MASTER", TRACKED, False),  # waits in INIT for the new script's first result
    (100, 1.0, "BACKUP", RCONF.format(prio=90, extra=""), True),
    (100, 1.0, "BACKUP", RCONF.format(prio=255, extra=""), False),  # now the owner: MASTER
    (100, 1.0, "BACKUP", RCONF.format(prio=90, extra="    unicast_peer {\n    }\n    unicast_fault_no_peer"),
     False),  # FAULT from its configuration
]


@pytest.mark.parametrize(("prio", "run_s", "state", "new_text", "keeps"), KEEPS)
def test_keeps_state_is_what_the_runtime_reload_does(prio, run_s, state, new_text, keeps):
    """The preview's keeps_state (Retire.keeps_state of the same diff) against the state the
    runtime's reload really leaves the changed instance in (recording fakes, fake clock)."""
    async def go() -> str:
        r = Rig()
        rt = await r.start(rconf(prio))
        await r.advance(run_s)
        assert rt.state_of("VI_1").name == state
        old = {k: run.plan for k, run in rt.instances.items()}
        new_config = load_text(new_text).config
        (vi1,) = vrrp_preview(old, plan_all(new_config), {"VI_1": state})["instances"]
        assert vi1["action"] == "changed" and vi1["keeps_state"] is keeps
        text = preview_text({"vrrp": {"instances": [vi1], "changes": True}})
        assert (f"restarted in its current state ({state})" in text) is keeps
        await rt.reload(new_config)
        await r.settle()
        after = rt.state_of("VI_1").name
        await rt.stop()
        return after
    after = asyncio.run(go())
    assert (after == state) is keeps, after


def _tracked(prio: int) -> str:
    return TRACKED.replace("priority 180", f"priority {prio}") if prio != 180 else TRACKED


def test_a_changed_master_keeps_its_state_with_a_script_that_has_reported():
    """keepalived keeps a vrrp_script's result across a reload (clear_diff_script): a MASTER
    tracking an unweighted script that has reported, changed by the reload, stays MASTER.
    The runtime gives the rebuilt instance the script's last report; without it, it waited
    in INIT for the next report, came back BACKUP and lost mastership for a master-down
    interval. The preview says the same."""
    assert "priority 180" in TRACKED

    async def go() -> tuple[str, list[str]]:
        r = Rig()
        rt = await r.start(load_text(_tracked(200)).config)
        rt.deliver_tracking(TrackingChanged("script", "chk", ok=True))
        await r.advance(3.7)
        assert rt.state_of("VI_1").name == "MASTER"
        old = {k: run.plan for k, run in rt.instances.items()}
        new_config = load_text(_tracked(150)).config
        (vi1,) = vrrp_preview(old, plan_all(new_config), {"VI_1": "MASTER"})["instances"]
        assert vi1["action"] == "changed" and vi1["keeps_state"] is True
        states = []
        await rt.reload(new_config)
        states.append(rt.state_of("VI_1").name)
        await r.settle()
        states.append(rt.state_of("VI_1").name)
        await r.advance(5.0)  # no report after the reload: the last one still holds
        states.append(rt.state_of("VI_1").name)
        await rt.stop()
        return states
    assert asyncio.run(go()) == ["MASTER", "MASTER", "MASTER"]


def test_removed_and_added_instances_keep_nothing():
    old = plans(more=OTHER)
    (retire,) = [r for r in diff(old, plans()).retire]
    assert retire.removed and retire.keeps_state("MASTER") is False
    vi2 = next(i for i in vrrp_preview(old, plans(), {"VI_2": "MASTER"})["instances"] if i["name"] == "VI_2")
    assert "keeps_state" not in vi2 and vi2["vips_removed"] == ["192.0.2.200/24 dev eth0"]


def test_a_disabled_script_is_left_out_as_the_daemon_leaves_it_out():
    """A track_script whose script cannot be found is disabled by the vrrp child's trackers
    (plan_all(config, disabled)); reload_plans() leaves it out the same way, so a changed
    MASTER tracking it is said to keep its state, and the runtime's reload keeps it."""
    missing = 'vrrp_script chk {\n    script "/nonexistent/kpy-chk"\n    interval 1\n}\n'
    ts = "    track_script {\n        chk\n    }"
    old_config = load_text(missing + RCONF.format(prio=200, extra=ts)).config
    new_config = load_text(missing + RCONF.format(prio=180, extra=ts)).config
    old, new = reload_plans(old_config), reload_plans(new_config)
    (vi1,) = vrrp_preview(old, new, {"VI_1": "MASTER"})["instances"]
    assert vi1["action"] == "changed" and vi1["keeps_state"] is True
    # the reload adds the track_script: planned without the trackers' verdict, the new
    # script would be awaited (not kept); the daemon leaves it out, so it is kept
    plain = load_text(missing + RCONF.format(prio=200, extra="")).config
    (vi1,) = vrrp_preview(reload_plans(plain), new, {"VI_1": "MASTER"})["instances"]
    assert vi1["keeps_state"] is True
    (naive,) = vrrp_preview(plan_all(plain), plan_all(new_config), {"VI_1": "MASTER"})["instances"]
    assert naive["keeps_state"] is False

    async def go() -> str:
        r = Rig()
        rt = VrrpRuntime(r.net, r.clock, LOG, sender=r.sender, socket_opener=r.opener, scheduler=r.sched,
                         vmac_sysctls=r.sysctls)
        r.rt = rt
        await rt.start(old_config, {("script", "chk")})
        await r.advance(3.7)
        assert rt.state_of("VI_1").name == "MASTER"
        assert {k: run.plan for k, run in rt.instances.items()} == old
        await rt.reload(new_config, {("script", "chk")})
        await r.settle()
        after = rt.state_of("VI_1").name
        await rt.stop()
        return after
    assert asyncio.run(go()) == "MASTER"
