"""The vrrp child's role: `run(ctx)` (picked up by core/child.py).

Starts the runtime on the configuration, wires reload (reconcile by key) and dumps
(keepalived.data / keepalived.stats / JSON from instance snapshots), waits for the stop
request, then releases: priority 0 and VIPs removed, unless -V (dont_release_vrrp).
Tracking and notify come from keepalived_py.track, shared with the check child.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from keepalived_py.bfd.track import bfd_tracking
from keepalived_py.config.model.root import KeepalivedConfig
from keepalived_py.core.context import ChildContext
from keepalived_py.net.rcvbuf import rcvbuf_setting
from keepalived_py.observe.status import vrrp_view
from keepalived_py.observe.vrrp import data_text, json_text, scripts_text, stats_text
from keepalived_py.observe.vrrp_data import vrrp_data_text
from keepalived_py.observe.vrrp_json_v2 import JSON_VERSION_2, json_text_v2, track_process_objects
from keepalived_py.observe.vrrp_settings import runtime_snapshots
from keepalived_py.track.notify import Notifier
from keepalived_py.track.trackers import Trackers
from keepalived_py.vrrpd.adopt import StateFile
from keepalived_py.vrrpd.dynamic_if import dynamic_notes
from keepalived_py.vrrpd.ignored import start_notes
from keepalived_py.vrrpd.mail import VrrpMail
from keepalived_py.vrrpd.plan import default_interface
from keepalived_py.vrrpd.precise_timers import make_scheduler
from keepalived_py.vrrpd.process import Knobs, ProcessSettings
from keepalived_py.vrrpd.runtime import VrrpRuntime
from keepalived_py.vrrpd.static_track import static_tracking

# VrrpStats fields keepalived's data / stats / JSON files leave out
EXTRA_DROPS = ("chk_err", "vers_err", "vrid_err", "unicast_src_err", "owner_conflict",
               "interval_mismatch", "owner_ignored")


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
    # per instance, the drops keepalived counts but writes to no dump file (SNMP-only or log
    # only there): bad checksum, version, VRID, unicast source, owner conflict ...
    for name in sorted(runtime.by_name):
        st = runtime.by_name[name].machine.stats
        counts = " ".join(f"{k} {getattr(st, k)}" for k in EXTRA_DROPS)
        lines.append(f" Instance {name} drops: {counts}")
    return "\n".join(lines) + "\n"


def _nft_firewall() -> Any:
    """The no_accept / vrrp_strict filter over libnftables (made only when a config needs it)."""
    from keepalived_py.net.nft import NftFirewall
    from keepalived_py.net.nft_libnftables import LibNftables

    return NftFirewall(LibNftables())


def netlink_rcvbufs(g: Any) -> tuple[tuple[int, bool], tuple[int, bool]]:
    """vrrp_netlink_cmd_rcv_bufs / vrrp_netlink_monitor_rcv_bufs (with _force) for the vrrp
    child's netlink sockets, as keepalived's kernel_netlink_set_recv_bufs(); (0, False) unset."""
    return rcvbuf_setting(g, "vrrp_netlink_cmd_rcv_bufs"), rcvbuf_setting(g, "vrrp_netlink_monitor_rcv_bufs")


async def run(ctx: ChildContext) -> int:
    from keepalived_py.net.pyroute2_adapter import Pyroute2Net

    release = not getattr(ctx.options, "dont_release_vrrp", False)
    config: KeepalivedConfig = ctx.config
    checker = bool(config.virtual_server)
    notifier = Notifier(checker_running=checker, log_fn=ctx.log.info)
    trackers = Trackers(log_fn=ctx.log.info)
    await notifier.start(config)
    detail = bool(getattr(ctx.options, "log_detail", 0))
    mail = VrrpMail(ctx.log.info, detail_log=ctx.log.info if detail else None)
    # restarts without a failover (issue 16): a respawned or restarted child resumes its
    # predecessor's MASTER instances, judged on what it left and on the state file
    # (vrrpd/adopt.py) kept beside the vrrp pid file
    state_file = StateFile.beside(ctx.pid_file) if ctx.pid_file else None
    # adverts to the microsecond: a timerfd, not uvloop's millisecond timers (issue 16)
    timers = make_scheduler(asyncio.get_running_loop(), ctx.clock, ctx.log)
    net = Pyroute2Net(*netlink_rcvbufs(config.global_defs))  # applied as its sockets open
    runtime = VrrpRuntime(net, ctx.clock, ctx.log, notifier=notifier, release_on_stop=release,
                          firewall_factory=_nft_firewall, mail=mail, log_detail=detail,
                          resume=bool(getattr(ctx, "resume", False)), state_file=state_file,
                          scheduler=timers)

    def _disabled(config: KeepalivedConfig) -> set[tuple[str, str]]:
        disabled = trackers.prepare(config)
        for part in (trackers, notifier):
            why = part.security_violation()
            if why:
                ctx.log.warning(why)
                break
        return disabled

    procs = ProcessSettings(ctx.log.info)

    async def reload(new_config: KeepalivedConfig) -> None:
        procs.reset()  # standard scheduling while reloading, as keepalived
        await runtime.reload(new_config, _disabled(new_config))
        procs.apply(Knobs.from_global(new_config.global_defs), reload=True)
        await notifier.reload(new_config)
        await trackers.reload(new_config)

    async def dump(kind: str) -> Any:
        snaps = runtime_snapshots(runtime, notifier, trackers)
        if kind == "json":
            text = json_text(snaps, runtime.wall_offset())
            g = ctx.config.global_defs
            if g is not None and g.json_version == JSON_VERSION_2:  # keepalived 2.2.8's form
                state = trackers.snapshot()["processes"]
                text = json_text_v2(text, track_process_objects(ctx.config.vrrp_track_process, state))
            return text
        if kind == "snapshot":  # the parent's metrics endpoint and control socket
            view = vrrp_view(snaps, runtime.wall_offset(), trackers=trackers.snapshot(),
                             sockets=dataclasses.asdict(runtime.counters))
            view["lateness"] = runtime.lateness_views()
            return view
        if kind == "data":  # keepalived's sections around ours (observe/vrrp_data.py)
            return await vrrp_data_text(runtime, ctx.config, snaps, data_text(snaps, runtime.wall_offset()),
                                        scripts_text(trackers.snapshot().get("scripts", {}), snaps),
                                        sockets_text(runtime))
        if kind in ("stats", "stats_clear"):
            text = stats_text(snaps)
            if kind == "stats_clear":
                runtime.clear_stats()
            return text
        return ""

    ctx.on_reload(reload)
    ctx.on_dump(dump)
    ctx.on_message(bfd_tracking(runtime.deliver_tracking, ctx.log.info if detail else None))
    try:
        for note in start_notes(config) + dynamic_notes(config):  # read but not acted on here, said once
            ctx.log.warning(note)
        for line in static_tracking(config, default_interface(config))[1]:  # keepalived's start lines
            ctx.log.info(line)
        disabled = _disabled(config)
        await trackers.start_files(config, runtime.deliver_tracking)  # heard by the instances as they are made
        await runtime.start(config, disabled)
        await trackers.start(config, runtime.deliver_tracking)
        procs.apply(Knobs.from_global(config.global_defs))
        await ctx.stopped()
    finally:
        try:
            await trackers.stop()
        except Exception:  # noqa: BLE001
            ctx.log.exception("trackers stop failed")
        mail.shutdown()
        # Stop(release=False), an in-place restart: the successor adopts what runs
        await runtime.stop(quiet=not getattr(ctx, "release", True))
        if timers is not None:
            timers.close()
        try:
            await mail.close()
        except Exception:  # noqa: BLE001
            ctx.log.exception("smtp_alert stop failed")
        try:
            await notifier.stop()
        except Exception:  # noqa: BLE001
            ctx.log.exception("notifier stop failed")
    return 0
