"""track_bfd as keepalived 2.2.7's vrrp process resolves it (vrrp_track.c alloc_track_bfd,
bfd_parser.c bfd_vrrp_handler / bfd_vrrp_weight_handler / bfd_vrrp_end_handler) and the
bfd_instance blocks its bfd process runs (bfd_data.c alloc_bfd, bfd_parser.c bfd_end_handler);
the priority arithmetic is vrrp_scheduler.c vrrp_handle_bfd_event / initialise_track_bfd_state.
"""

from __future__ import annotations

from keepalived_py.bfd.plan import plan_all as bfd_plan_all
from keepalived_py.bfd.plan import runnable
from keepalived_py.config import load_text
from keepalived_py.vrrp.tracking import (
    Tracking,
    TrackStatus,
    clamp_priority,
    contribution,
    is_fault,
)
from keepalived_py.vrrpd.plan import plan_all, sync_groups


def _bfd(name: str, body: str = "neighbor_ip 192.0.2.2") -> str:
    return f"bfd_instance {name} {{\n    {body}\n}}\n"


def _inst(lines: str, prio: int = 150) -> str:
    return ("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n"
            f"    priority {prio}\n    track_bfd {{\n{lines}\n    }}\n"
            "    virtual_ipaddress {\n        192.0.2.100/24\n    }\n}\n")


def _tracked(text: str) -> dict[str, tuple[int, bool, bool | None]]:
    (plan,) = plan_all(load_text(text).config).values()
    return {o.name: (o.weight, o.reverse, o.initially_ok) for o in plan.tracked if o.kind == "bfd"}


def test_the_line_weight_overrides_but_keeps_the_instance_reverse_unless_given():
    conf = (_bfd("B1", "neighbor_ip 192.0.2.2\n    weight -30 reverse") + _bfd("B2", "neighbor_ip 192.0.2.3\n    weight 7")
            + _bfd("B3", "neighbor_ip 192.0.2.4\n    weight 5 reverse") + _bfd("B4", "neighbor_ip 192.0.2.5\n    weight 9"))
    got = _tracked(conf + _inst("        B1 weight 20\n        B2\n        B3 weight 4 noreverse\n"
                                "        B4 weight 300"))
    assert got == {"B1": (20, True, None),   # alloc_track_bfd starts from the bfd's reverse
                   "B2": (7, False, None),   # the bfd_instance's weight is the default
                   "B3": (4, False, None),
                   "B4": (9, False, None)}   # out of [-253..253]: the bfd_instance's weight


def test_lines_keepalived_ignores_are_not_tracked():
    conf = (_bfd("B1") + _bfd("ONLYCHK", "neighbor_ip 192.0.2.3\n    checker")
            + _bfd("BOTH", "neighbor_ip 192.0.2.4\n    checker\n    vrrp")
            + _inst("        B1\n        B1 weight 10\n        NOSUCH\n        ONLYCHK\n        BOTH\n        LATER")
            + _bfd("LATER", "neighbor_ip 192.0.2.5"))
    # duplicate: the first line wins; not found, checker-only, or defined after the line: ignored
    assert _tracked(conf) == {"B1": (0, False, None), "BOTH": (0, False, None)}


def test_a_bfd_the_bfd_process_does_not_run_stays_down():
    conf = (_bfd("B1") + _bfd("NONBR", "min_rx 50") + _bfd("DUPNBR", "neighbor_ip 192.0.2.2")
            + _bfd("FAMILY", "neighbor_ip 192.0.2.9\n    source_ip 2001:db8::1")
            + _inst("        B1\n        NONBR\n        DUPNBR weight -20\n        FAMILY"))
    got = _tracked(conf)
    assert got == {"B1": (0, False, None), "NONBR": (0, False, False), "DUPNBR": (-20, False, False),
                   "FAMILY": (0, False, False)}
    # vrrp_t starts with bfd_up false and no event ever comes: FAULT, or the negative weight
    (plan,) = plan_all(load_text(conf).config).values()
    tr = Tracking(plan.tracked)
    assert sorted(tr.faults()) == ["bfd FAMILY", "bfd NONBR"]
    assert tr.total_weight() == -20
    assert tr.pending() == ["bfd B1"]  # its session's first report decides


def test_the_bfd_process_runs_the_instances_keepalived_keeps():
    conf = (_bfd("X" * 32) + _bfd("Y" * 31, "neighbor_ip 192.0.2.1") + _bfd("B1", "neighbor_ip 192.0.2.2")
            + _bfd("B1", "neighbor_ip 192.0.2.3") + _bfd("NONBR", "min_rx 50")
            + _bfd("FAMILY", "neighbor_ip 192.0.2.9\n    source_ip 2001:db8::1")
            + _bfd("SAMENBR", "neighbor_ip 192.0.2.2\n    source_ip 192.0.2.50")
            + _bfd("S1", "neighbor_ip 192.0.2.7\n    source_ip 192.0.2.50")
            + _bfd("S2", "neighbor_ip 192.0.2.7\n    source_ip 192.0.2.51")
            + _bfd("S3", "neighbor_ip 192.0.2.7\n    source_ip 192.0.2.51")
            + _bfd("S4", "neighbor_ip 192.0.2.7"))
    config = load_text(conf).config
    assert [b.name for b in runnable(config.bfd_instance)] == ["Y" * 31, "B1", "S1", "S2"]
    plans = bfd_plan_all(config.bfd_instance)
    assert str(plans["B1"].endpoint.neighbor) == "192.0.2.2"  # the first B1, not the last


def test_a_sync_group_line_resolves_the_same_way():
    conf = (_bfd("B1", "neighbor_ip 192.0.2.2\n    weight -30 reverse") + _inst("        B1")
            + "vrrp_sync_group G1 {\n    group {\n        VI_1\n    }\n    track_bfd {\n"
              "        B1 weight 12\n        NOSUCH\n    }\n}\n")
    ((_name, _members, tracked),) = sync_groups(load_text(conf).config)
    assert [(o.name, o.weight, o.reverse) for o in tracked if o.kind == "bfd"] == [("B1", 12, True)]


def test_effective_priority_follows_keepalived_arithmetic():
    """vrrp_handle_bfd_event: Up adds |w| * m, Down takes it away; starting from
    initialise_track_bfd_state (w > 0 counts while up, w < 0 while down)."""
    conf = (_bfd("NEG", "neighbor_ip 192.0.2.2\n    weight -60") + _bfd("POS", "neighbor_ip 192.0.2.3\n    weight 25")
            + _bfd("REV", "neighbor_ip 192.0.2.4\n    weight 10 reverse"))
    (plan,) = plan_all(load_text(conf + _inst("        NEG\n        POS\n        REV")).config).values()
    objs = {o.name: o for o in plan.tracked if o.kind == "bfd"}

    def prio(**up: bool) -> int:
        return clamp_priority(150, sum(contribution(objs[n], TrackStatus(u)) for n, u in up.items()))

    assert prio(NEG=True, POS=True, REV=True) == 150 + 25 - 10
    assert prio(NEG=False, POS=True, REV=True) == 150 - 60 + 25 - 10
    assert prio(NEG=False, POS=False, REV=False) == 90
    assert prio(NEG=True, POS=False, REV=False) == 150


def test_weight_zero_faults_on_down_and_reverse_on_up():
    conf = _bfd("B1") + _bfd("B2", "neighbor_ip 192.0.2.3\n    weight 0 reverse")
    (plan,) = plan_all(load_text(conf + _inst("        B1\n        B2")).config).values()
    b1, b2 = (o for o in plan.tracked if o.kind == "bfd")
    assert (is_fault(b1, TrackStatus(False)), is_fault(b1, TrackStatus(True))) == (True, False)
    assert (is_fault(b2, TrackStatus(False)), is_fault(b2, TrackStatus(True))) == (False, True)


def test_on_the_instance_and_its_sync_group_the_group_weight_wins_unless_the_instance_is_unweighted():
    """add_vrrp_to_track_bfd: the instance's entry (added first) takes the group's weight and
    reverse when it is weighted, and stays unweighted when it is not."""
    conf = (_bfd("B1", "neighbor_ip 192.0.2.2") + _bfd("B2", "neighbor_ip 192.0.2.3\n    weight -30 reverse")
            + _inst("        B1 weight -20\n        B2 weight 0")
            + "vrrp_sync_group G1 {\n    group {\n        VI_1\n    }\n    sync_group_tracking_weight\n"
              "    track_bfd {\n        B1\n        B2\n    }\n}\n")
    config = load_text(conf).config
    (plan,) = plan_all(config).values()
    ((_name, _members, group),) = sync_groups(config)
    tr = Tracking(plan.tracked)
    for obj in group:
        tr.add(obj)
    assert {n: (o.weight, o.reverse) for (k, n), o in tr.objects.items() if k == "bfd"} == {
        "B1": (0, False), "B2": (0, True)}  # B2's line keeps the bfd_instance's reverse
    tr.update("bfd", "B1", ok=False)
    tr.update("bfd", "B2", ok=False)
    assert tr.faults() == ["bfd B1"] and tr.total_weight() == 0


def test_the_instance_logs_keepalived_tracked_bfd_line_on_each_change():
    """vrrp_handle_bfd_event: 'VRRP_Instance(VI) Tracked BFD instance b is UP|DOWN' before the
    priority change, once per change; the first Down is no change (bfd_up starts false)."""
    from ipaddress import ip_address

    from keepalived_py.vrrp.actions import Log
    from keepalived_py.vrrp.events import TrackingChanged
    from keepalived_py.vrrp.params import VrrpInstanceParams
    from keepalived_py.vrrp.tracking import TrackedObject
    from tests.unit.vrrp.lan import Lan

    lan = Lan(1000.0)
    lan.add("a", VrrpInstanceParams("VI_1", "eth0", 51, ip_address("192.0.2.1"), priority=150,
                                    virtual_ipaddress=(ip_address("192.0.2.100"),)),
            tracked=(TrackedObject("bfd", "b1", -60, False, None),))
    lan.start("a")
    for up in (False, True, True, False):
        lan.deliver("a", "VI_1", TrackingChanged("bfd", "b1", ok=up))
    lan.deliver("a", "VI_1", TrackingChanged("bfd", "other", ok=True))  # not tracked: silent
    lines = [a.message for _t, _r, a in lan.log if isinstance(a, Log)
             and ("Tracked BFD" in a.message or "effective priority" in a.message)]
    assert lines == ["(VI_1) Changing effective priority from 150 to 90",
                     "VRRP_Instance(VI_1) Tracked BFD instance b1 is UP",
                     "(VI_1) Changing effective priority from 90 to 150",
                     "VRRP_Instance(VI_1) Tracked BFD instance b1 is DOWN",
                     "(VI_1) Changing effective priority from 150 to 90"]


def test_a_checker_only_block_leaves_its_name_to_a_later_vrrp_block():
    """bfd_vrrp_end_handler frees a checker-only block at its '}', so the vrrp process keeps a
    later block of that name (and its weight); the bfd process keeps the first block, whose
    events go to the checker only, so the vrrp side never hears: down for good."""
    conf = (_bfd("B1", "neighbor_ip 192.0.2.2\n    checker") + _bfd("B1", "neighbor_ip 192.0.2.3\n    weight -15")
            + _inst("        B1"))
    assert _tracked(conf) == {"B1": (-15, False, False)}


def test_keepalived_data_lists_tracked_bfds_as_keepalived_does():
    """dump_tracked_bfd: '     b1: weight -60 reverse' under '   Tracked BFDs :' (a colon
    after the name, unlike the scripts' lines)."""
    import asyncio

    from keepalived_py.observe.vrrp import data_text
    from keepalived_py.observe.vrrp_settings import runtime_snapshots
    from tests.unit.vrrpd.test_runtime import CONF, Rig

    text = (_bfd("b1", "neighbor_ip 192.0.2.2\n    weight -60 reverse") + _bfd("b2", "neighbor_ip 192.0.2.3")
            + CONF.format(prio=150, extra="    track_bfd {\n        b1\n        b2 weight 5\n    }"))

    async def go() -> str:
        rt = await Rig().start(load_text(text).config)
        try:
            return data_text(runtime_snapshots(rt), rt.wall_offset())
        finally:
            await rt.stop()

    data = asyncio.run(go())
    assert "   Tracked BFDs :\n     b1: weight -60 reverse\n     b2: weight 5\n" in data, data


def test_the_sync_group_section_lists_its_tracked_bfds_as_keepalived_does():
    """keepalived 2.2.7's dump of this setup (netns, beside ours): the group keeps its
    '   Tracked BFDs :' list, the line's weight with the bfd_instance's reverse."""
    from types import SimpleNamespace

    from keepalived_py.observe.vrrp_sections import sync_group_lines
    from keepalived_py.vrrp.machine import State

    conf = (_bfd("b1", "neighbor_ip 192.0.2.2\n    weight -60 reverse") + _inst("        b1")
            + "vrrp_sync_group G {\n    group {\n        VI_1\n    }\n    track_bfd {\n        b1 weight 7\n"
              "        NOSUCH\n    }\n}\n")
    snap = SimpleNamespace(name="VI_1", state=State.MASTER)
    assert sync_group_lines(load_text(conf).config, [snap], {"G": State.MASTER}) == [
        "------< VRRP Sync groups >------", " VRRP Sync Group = G, MASTER", "   Num member fault 0, num member init 0",
        "   VRRP member instances :", "     VI_1", "   Using smtp notification = no",
        "   Tracked BFDs :", "     b1: weight 7 reverse"]


def test_the_vrrp_track_bfds_section_is_keepalived_s():
    """keepalived 2.2.7's '------< VRRP Track BFDs >------' for this setup (netns, its dump):
    VI_51's own weighted line is dropped (sync group without tracking weight), the group's
    reaches it; VI_52's own line comes first, as keepalived adds instances before groups."""
    conf = (_bfd("b1", "neighbor_ip 192.0.2.2\n    weight -60 reverse") + _bfd("idle", "neighbor_ip 192.0.2.3")
            + _inst("        b1").replace("VI_1", "VI_51")
            + _inst("        b1 weight 25").replace("VI_1", "VI_52").replace("virtual_router_id 51", "virtual_router_id 52")
            + "vrrp_sync_group G {\n    group {\n        VI_51\n    }\n    track_bfd {\n        b1 weight 7\n    }\n}\n")
    config = load_text(conf).config
    from keepalived_py.vrrpd.track_bfd import vrrp_track_bfd_lines

    plans = sorted(plan_all(config).values(), key=lambda p: p.name)
    lines = vrrp_track_bfd_lines(config.bfd_instance, [(p.name, p.tracked) for p in plans], sync_groups(config),
                                 {"b1": True})
    assert lines == ["------< VRRP Track BFDs >------",
                     " VRRP Track BFD = b1", "   Weight = -60 reverse", "   Bfd is up", "   Tracking VRRP instances :",
                     "   Tracking instances :", "     VI_52, weight 25 reverse", "     VI_51, weight 7 reverse",
                     " VRRP Track BFD = idle", "   Weight = 0", "   Bfd is down", "   Tracking VRRP instances :"]
    assert vrrp_track_bfd_lines((), [], [], {}) == []
