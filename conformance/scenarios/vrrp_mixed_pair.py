"""The implementation under test as master against real keepalived 2.2.7 as backup, VRRPv3
over unicast: they agree on the master; kill -9 of the master hands the VIP to keepalived;
restarted, the master takes it back and keepalived releases it. For keepalived itself this
is a keepalived pair, so the facts must match."""

from __future__ import annotations

from ..lab import Implementation, Lab, Topology, get, vrrp_adverts
from . import Context, scenario

VIP = "192.0.2.100"
TOPOLOGY = """
bridge lan 192.0.2.0/24
router r1 lan
router r2 lan
"""
CONFIG = """\
global_defs {{
    router_id {node}
}}

vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 71
    version 3
    priority {priority}
    advert_int 1
    unicast_src_ip {src}
    unicast_peer {{
        {peer}
    }}
    virtual_ipaddress {{
        {vip}/24
    }}
}}
"""
MDI = {150: 3 + 106 / 256, 100: 3 + 156 / 256}


def check(r: dict) -> list[str]:
    want = {"initial_master": "r1", "backup_stayed_backup": True, "takeover": True, "back": True,
            "released": True, "final_holders": ["r1"]}
    problems = [f"{k} is {r.get(k)!r}, expected {v!r}" for k, v in want.items() if r.get(k) != v]
    if r.get("takeover_in_window") is not True:
        problems.append(f"takeover outside the window: {r.get('_timings')}")
    return problems


def summary(r: dict) -> str:
    return f"master {r.get('initial_master')}, takeover {r.get('takeover')}, back {r.get('back')}"


@scenario("vrrp_mixed_pair", features=("vrrp",), needs=("netns",), check=check, summary=summary)
def run(impl: Implementation, ctx: Context) -> dict:
    """impl (priority 150) and keepalived (100), VRRPv3 unicast: failover both ways."""
    ka = get("keepalived")
    with Lab(Topology.parse(TOPOLOGY), workdir=ctx.workdir / "lab") as lab:
        a1, a2 = lab.addr("r1"), lab.addr("r2")
        conf1 = CONFIG.format(node="r1", priority=150, src=a1, peer=a2, vip=VIP)
        conf2 = CONFIG.format(node="r2", priority=100, src=a2, peer=a1, vip=VIP)
        vips = lab.watch_addresses(["r1", "r2"])
        cap = lab.capture("lan", "vrrp")
        r1 = lab.start_daemon("r1", impl, conf1)
        first = vips.wait_for(VIP, timeout=15)
        r2 = lab.start_daemon("r2", ka, conf2)
        stayed = vips.wait_for(VIP, node="r2", timeout=MDI[100] + 2) is None
        t_kill = lab.kill(r1)
        took = vips.wait_for(VIP, node="r2", after=t_kill, timeout=MDI[100] + 5)
        frames = cap.stop()
        t_wall = next(w for m, w, _ in lab.journal if m == t_kill)
        ads = vrrp_adverts(frames)
        ref = [a.ts for a in ads if a.src == a1 and a.ts < t_wall][-1:]
        delay = took.wall - ref[0] if took and ref else None
        t_back = lab.note("restart r1")
        r1b = lab.start_daemon("r1", impl, conf1, name=f"{impl.name}-again")
        back = vips.wait_for(VIP, node="r1", after=t_back, timeout=MDI[150] + 10)
        released = vips.wait_for(VIP, node="r2", added=False, after=t_back, timeout=3)
        facts = sorted({(a.version, a.ttl, a.dst, a.priority) for a in ads if a.src == a1 and a.ts < t_wall})
        return {
            "initial_master": first.node if first else None,
            "backup_stayed_backup": stayed,
            "r1_adverts": [list(f) for f in facts],
            "takeover": took is not None,
            "takeover_in_window": delay is not None and MDI[100] - 0.25 <= delay <= MDI[100] + 0.75,
            "back": back is not None,
            "released": released is not None,
            "final_holders": sorted(vips.holders(VIP)),
            "_timings": {"takeover_after_last_advert_s": round(delay, 3) if delay is not None else None},
            "_logs": {"r1": r1.output()[-2000:], "r1b": r1b.output()[-2000:], "r2": r2.output()[-2000:]},
        }
