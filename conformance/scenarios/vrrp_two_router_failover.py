"""Two routers, one VIP: the higher priority router is master; kill -9 it, the backup takes over."""

from __future__ import annotations

from ..lab import Implementation, Lab, Topology, arps, vrrp_adverts
from . import Context, scenario

VIP = "192.0.2.100"
VRID = 51
ADVERT_S = 1
PRIORITIES = {"r1": 150, "r2": 100}

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
    state {state}
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    advert_int {advert}
    virtual_ipaddress {{
        {vip}/24
    }}
}}
"""


def config(node: str) -> str:
    prio = PRIORITIES[node]
    state = "MASTER" if prio == max(PRIORITIES.values()) else "BACKUP"
    return CONFIG.format(node=node, state=state, vrid=VRID, priority=prio, advert=ADVERT_S, vip=VIP)


def master_down_interval(priority: int, advert_s: float = ADVERT_S) -> float:
    """RFC 3768 section 6.1: 3 * Advertisement_Interval + Skew_Time, in seconds."""
    return 3 * advert_s + (256 - priority) / 256


def _advert_facts(adverts, by_src: dict[str, str]) -> list[dict]:
    seen = {}
    for a in adverts:
        fact = {"from": by_src.get(a.src, a.src), "version": a.version, "vrid": a.vrid,
                "priority": a.priority, "addresses": list(a.addresses),
                "interval_cs": a.interval_cs, "ttl": a.ttl, "dst": a.dst}
        seen[repr(sorted(fact.items()))] = fact
    return sorted(seen.values(), key=lambda f: (f["from"], f["priority"]))


def check(r: dict) -> list[str]:
    problems = []
    if r.get("initial_master") != "r1":
        problems.append(f"initial master is {r.get('initial_master')}, expected r1")
    if not r.get("takeover"):
        problems.append("r2 did not take the VIP over")
    if r.get("takeover_in_window") is not True:
        problems.append(f"takeover time outside the RFC window: {r.get('_timings')}")
    if not r.get("garp_from_new_master"):
        problems.append("no gratuitous ARP from r2 for the VIP")
    return problems


def summary(r: dict) -> str:
    return (f"master {r.get('initial_master')} -> "
            f"{'r2' if r.get('takeover') else 'none'}, window {'ok' if r.get('takeover_in_window') else 'NO'}")


@scenario("vrrp_two_router_failover", features=("vrrp",), needs=("netns",), check=check, summary=summary)
def run(impl: Implementation, ctx: Context) -> dict:
    """Two routers (priority 150/100) share 192.0.2.100 on VRID 51; kill -9 the master."""
    with Lab(Topology.parse(TOPOLOGY), workdir=ctx.workdir / "lab") as lab:
        ips = {lab.addr(n): n for n in ("r1", "r2")}
        vips = lab.watch_addresses(["r1", "r2"])
        cap = lab.capture("lan", "vrrp or arp")
        t_start = lab.note("start daemons")
        r1 = lab.start_daemon("r1", impl, config("r1"))
        r2 = lab.start_daemon("r2", impl, config("r2"))
        first = vips.wait_for(VIP, timeout=15)
        # let the election settle: at least two adverts from the master
        settle = vips.wait_for(VIP, added=False, after=first.mono if first else None, timeout=2.5)
        holders_before = sorted(vips.holders(VIP))
        t_kill = lab.kill(r1)  # kill -9 the whole daemon: a crash, no goodbye advert
        takeover = vips.wait_for(VIP, node="r2", after=t_kill, timeout=master_down_interval(100) + 5)
        # one more advert interval so the new master's adverts and GARPs are captured
        vips.wait_for(VIP, added=False, node="r2", after=t_kill, timeout=1.5)
        frames = cap.stop()
        holders_after = sorted(vips.holders(VIP))
        r2_alive = r2.alive()
        t_kill_wall = next(w for m, w, _ in lab.journal if m == t_kill)
        adverts = vrrp_adverts(frames)
        macs = {}
        for a in adverts:
            macs.setdefault(ips.get(a.src, a.src), a.src_mac)
        garps = [a for a in arps(frames) if a.gratuitous and a.sender_ip == VIP]
        delay = (takeover.mono - t_kill) if takeover else None
        # The backup's Master_Down_Timer runs from the last advert it heard, not from the
        # kill: measure from that advert (pcap time) to the VIP appearing (netlink time).
        last = [a.ts for a in adverts if a.ts < t_kill_wall and ips.get(a.src) == "r1"]
        down = (takeover.wall - last[-1]) if takeover and last else None
        mdi = master_down_interval(PRIORITIES["r2"])
        window = (mdi - 0.25, mdi + 0.75)
        ctx.log(f"{impl.name}: VIP on r2 {down}s after r1's last advert (window {window}), {delay}s after the kill")
        return {
            "initial_master": first.node if first else None,
            "holders_before_kill": holders_before,
            "vip_removed_before_kill": settle is not None,
            "adverts_before_kill": _advert_facts([a for a in adverts if a.ts < t_kill_wall], ips),
            "garp_from_master": any(g.src_mac == macs.get("r1") and g.ts < t_kill_wall for g in garps),
            "takeover": takeover is not None,
            "takeover_in_window": down is not None and window[0] <= down <= window[1],
            "adverts_after_kill": _advert_facts([a for a in adverts if a.ts >= t_kill_wall], ips),
            "garp_from_new_master": any(g.src_mac == macs.get("r2") and g.ts >= t_kill_wall for g in garps),
            "holders_after_kill": holders_after,
            "vip_events": [(e.node, e.ifname, e.address, "add" if e.added else "del")
                           for e in vips.history(VIP)],
            "backup_still_running": r2_alive,
            "_timings": {
                "first_vip_s": round(first.mono - t_start, 3) if first else None,
                "takeover_after_kill_s": round(delay, 3) if delay is not None else None,
                "takeover_after_last_advert_s": round(down, 3) if down is not None else None,
                "window_s": [round(w, 3) for w in window],
            },
            "_logs": {"r1": r1.output()[-3000:], "r2": r2.output()[-3000:]},
        }
