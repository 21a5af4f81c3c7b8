"""The vrrp child's role: `run(ctx)` (picked up by core/child.py).

Starts the runtime on the configuration, wires reload (reconcile by key) and dumps
(keepalived.data / keepalived.stats / JSON from instance snapshots), waits for the stop
request, then releases: priority 0 and VIPs removed, unless -V (dont_release_vrrp).
Tracking and notify come from keepalived_py.track, shared with the check child.
"""

from __future__ import annotations

import time
from typing import Any

from keepalived_py.core.context import ChildContext
from keepalived_py.track.notify import Notifier
from keepalived_py.track.trackers import Trackers
from keepalived_py.vrrpd.runtime import VrrpRuntime

_STATE_NUM = {"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3, "STOP": 98}


def stats_text(snaps: list[dict]) -> str:
    lines = []
    for s in snaps:
        st = s["stats"]
        lines += [
            f"VRRP Instance: {s['name']}",
            "  Advertisements:",
            f"    Received: {st['advert_rcvd']}",
            f"    Sent: {st['advert_sent']}",
            f"  Became master: {st['become_master']}",
            f"  Released master: {st['release_master']}",
            "  Packet Errors:",
            f"    Length: {st['packet_len_err']}",
            f"    TTL: {st['ip_ttl_err']}",
            f"    Invalid Type: {st['invalid_type_rcvd']}",
            f"    Advertisement Interval: {st['advert_interval_err']}",
            f"    Address List: {st['addr_list_err']}",
            "  Authentication Errors:",
            f"    Invalid Type: {st['invalid_authtype']}",
            f"    Type Mismatch: {st['authtype_mismatch']}",
            f"    Failure: {st['auth_failure']}",
            "  Priority Zero:",
            f"    Received: {st['pri_zero_rcvd']}",
            f"    Sent: {st['pri_zero_sent']}",
        ]
    return "\n".join(lines) + ("\n" if lines else "")


def sockets_text(runtime: VrrpRuntime) -> str:
    """Our addition to keepalived.data: what the receive path dropped before any instance
    saw it (too short to carry a VRID, or a VRID no instance on that interface has)."""
    c = runtime.counters
    lines = ["------< VRRP Sockets >------",
             f" Received = {c.rx_total}",
             f" Too short = {c.rx_too_short}",
             f" Unknown VRID = {c.rx_unknown_vrid}",
             f" Send errors = {c.tx_errors}",
             f" Netlink errors = {c.netlink_errors}"]
    for (ifname, family, proto), vs in sorted(runtime.pool.sockets.items()):
        lines.append(f" Socket {ifname} IPv{family} proto {proto}: rx {vs.stats.rx_packets} "
                     f"tx {vs.stats.tx_packets} rx errors {vs.stats.rx_errors} tx errors {vs.stats.tx_errors}")
    return "\n".join(lines) + "\n"


def data_text(snaps: list[dict], now_wall: float | None = None) -> str:
    now_wall = time.time() if now_wall is None else now_wall
    lines = ["------< VRRP Topology >------"]
    for s in snaps:
        lines += [
            f" VRRP Instance = {s['name']}",
            f"   State = {s['state']}",
            f"   Wantstate = {s['wantstate']}",
            f"   Interface = {s['interface']}",
            f"   Using src_ip = {s['source']}",
            f"   Virtual Router ID = {s['vrid']}",
            f"   Priority = {s['base_priority']}",
            f"   Effective priority = {s['effective_priority']}",
            f"   Advert interval = {s['advert_int_s']} sec",
            f"   VRRP Version = {s['version']}",
            f"   Master router = {s['master_saddr']}",
            f"   Master priority = {s.get('master_priority', 0)}",
            f"   Preempt = {'disabled' if s['nopreempt'] else 'enabled'}",
            f"   Preempt delay = {s['preempt_delay_s']} secs",
        ]
        if s["sync_group"]:
            lines.append(f"   Sync group = {s['sync_group']}")
        if s["unicast_peers"]:
            lines.append(f"   Unicast Peer = {len(s['unicast_peers'])}")
            lines += [f"     {p}" for p in s["unicast_peers"]]
        vips = s["virtual_ipaddress"]
        lines.append(f"   Virtual IP = {len(vips)}")
        lines += [f"     {v} dev {s['interface']}" for v in vips]
    return "\n".join(lines) + "\n"


def json_data(snaps: list[dict]) -> list[dict]:
    out = []
    for s in snaps:
        out.append({
            "data": {
                "iname": s["name"], "ifp_ifname": s["interface"], "vrid": s["vrid"],
                "base_priority": s["base_priority"], "effective_priority": s["effective_priority"],
                "vipset": s["vipset"], "state": _STATE_NUM.get(s["state"], 0),
                "wantstate": _STATE_NUM.get(s["wantstate"], 0), "version": s["version"],
                "adver_int": s["advert_int_s"], "master_adver_int": s["master_adver_int_us"] / 1e6,
                "nopreempt": s["nopreempt"], "preempt_delay": s["preempt_delay_s"],
                "vips": s["virtual_ipaddress"], "evips": s["virtual_ipaddress_excluded"],
                "unicast_peer": s["unicast_peers"], "last_transition": s.get("last_transition") or 0,
            },
            "stats": dict(s["stats"]),
        })
    return out


async def run(ctx: ChildContext) -> int:
    from keepalived_py.net.pyroute2_adapter import Pyroute2Net

    release = not getattr(ctx.options, "dont_release_vrrp", False)
    checker = bool(getattr(ctx.config, "virtual_server", ()))
    notifier = Notifier(checker_running=checker, log_fn=ctx.log.info)
    trackers = Trackers(log_fn=ctx.log.info)
    await notifier.start(ctx.config)
    runtime = VrrpRuntime(Pyroute2Net(), ctx.clock, ctx.log, notifier=notifier, release_on_stop=release)

    def _disabled(config: Any) -> set[tuple[str, str]]:
        disabled = trackers.prepare(config)
        for part in (trackers, notifier):
            why = part.security_violation()
            if why:
                ctx.log.warning(why)
                break
        return disabled

    async def reload(new_config: Any) -> None:
        await runtime.reload(new_config, _disabled(new_config))
        await notifier.reload(new_config)
        await trackers.reload(new_config)

    async def dump(kind: str) -> Any:
        snaps = runtime.snapshots()
        if kind == "json":
            return json_data(snaps)
        if kind == "data":
            return data_text(snaps) + sockets_text(runtime)
        if kind in ("stats", "stats_clear"):
            text = stats_text(snaps)
            if kind == "stats_clear":
                for r in runtime.instances.values():
                    r.machine.stats.__init__()
            return text
        return ""

    ctx.on_reload(reload)
    ctx.on_dump(dump)
    try:
        await runtime.start(ctx.config, _disabled(ctx.config))
        await trackers.start(ctx.config, runtime.deliver_tracking)
        await ctx.stopped()
    finally:
        try:
            await trackers.stop()
        except Exception:  # noqa: BLE001
            ctx.log.exception("trackers stop failed")
        await runtime.stop()
        try:
            await notifier.stop()
        except Exception:  # noqa: BLE001
            ctx.log.exception("notifier stop failed")
    return 0
