"""A tracked interface goes down on the master: it enters FAULT and drops the VIP, the backup
takes over; the link comes back: the master returns (preempt) and the backup releases.
Run once with the instance's own interface and once with a `track_interface`."""

from __future__ import annotations

from ..lab import Implementation, Lab, Topology
from . import Context, scenario

VIP = "192.0.2.100"
TOPOLOGY = """
bridge lan 192.0.2.0/24
bridge back 198.51.100.0/24
router r1 lan back
router r2 lan back
"""
CONFIG = """\
global_defs {{
    router_id {node}
}}

vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority {priority}
    advert_int 1
{track}    virtual_ipaddress {{
        {vip}/24
    }}
}}
"""
MDI = {150: 3 + 106 / 256, 100: 3 + 156 / 256}


def _config(node: str, priority: int, track: bool) -> str:
    t = "    track_interface {\n        eth1\n    }\n" if track else ""
    return CONFIG.format(node=node, priority=priority, vip=VIP, track=t)


def check(r: dict) -> list[str]:
    want = {"initial_master": "r1", "r1_released_on_fault": True, "r1_fault_logged": True,
            "r2_took_over": True, "r1_back": True, "r2_released": True, "final_holders": ["r1"]}
    return [f"{k} is {r.get(k)!r}, expected {v!r}" for k, v in want.items() if r.get(k) != v]


def summary(r: dict) -> str:
    return f"fault released {r.get('r1_released_on_fault')}, takeover {r.get('r2_took_over')}, back {r.get('r1_back')}"


def _run(impl: Implementation, ctx: Context, track: bool) -> dict:
    ifname = "eth1" if track else "eth0"
    with Lab(Topology.parse(TOPOLOGY), workdir=ctx.workdir / "lab") as lab:
        vips = lab.watch_addresses(["r1", "r2"])
        r1 = lab.start_daemon("r1", impl, _config("r1", 150, track))
        first = vips.wait_for(VIP, timeout=15)
        r2 = lab.start_daemon("r2", impl, _config("r2", 100, track))
        vips.wait_for(VIP, node="r2", timeout=MDI[100] + 1.5)
        # marks taken before the change: keepalived reacts before `ip link` has even returned
        t_down = lab.note(f"link down r1 {ifname} next")
        lab.link_down("r1", ifname)
        released = vips.wait_for(VIP, node="r1", added=False, after=t_down, timeout=3)
        took = vips.wait_for(VIP, node="r2", after=t_down, timeout=MDI[100] + 4)
        t_up = lab.note(f"link up r1 {ifname} next")
        lab.link_up("r1", ifname)
        back = vips.wait_for(VIP, node="r1", after=t_up, timeout=MDI[150] + 6)
        r2_rel = vips.wait_for(VIP, node="r2", added=False, after=t_up, timeout=3)
        vips.wait_for(VIP, node="r2", after=t_up + 1, timeout=1.5)
        return {
            "initial_master": first.node if first else None,
            "r1_released_on_fault": released is not None,
            "r1_fault_logged": "Entering FAULT STATE" in r1.output(),
            "r2_took_over": took is not None,
            "r1_back": back is not None,
            "r2_released": r2_rel is not None,
            "final_holders": sorted(vips.holders(VIP)),
            "_timings": {
                "release_after_link_down_s": round(released.mono - t_down, 3) if released else None,
                "takeover_after_link_down_s": round(took.mono - t_down, 3) if took else None,
                "back_after_link_up_s": round(back.mono - t_up, 3) if back else None,
            },
            "_logs": {"r1": r1.output()[-3000:], "r2": r2.output()[-2000:]},
        }


@scenario("vrrp_own_interface_fault", features=("vrrp",), needs=("netns",), check=check, summary=summary)
def run_own(impl: Implementation, ctx: Context) -> dict:
    """The master's own VRRP interface goes down and up again."""
    return _run(impl, ctx, track=False)


@scenario("vrrp_track_interface_fault", features=("vrrp",), needs=("netns",), check=check, summary=summary)
def run_tracked(impl: Implementation, ctx: Context) -> dict:
    """The master's track_interface goes down and up again."""
    return _run(impl, ctx, track=True)
