"""The runtime's side of an instance snapshot: the configured options the dumps print.

The VRRP core snapshots what it runs (state, priorities, timers, counters); keepalived's
dumps also print options the core never needs (the VMAC name, accept, notify scripts,
each VIP with its `ip addr` options). They are read here, once per dump, from the
runtime's instance plan (global defaults already applied there, as the runtime uses them)
and from the prepared scripts (keepalived prints the command it resolved, e.g. /bin/true as
'/usr/bin/true'). Nothing here is a second copy of live state: only configuration.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Mapping
from ipaddress import IPv4Interface, IPv6Interface
from typing import TYPE_CHECKING, Any

from keepalived_py.config.model.routes import Route
from keepalived_py.observe.iproute_text import format_route, format_rule
from keepalived_py.scripts.quoting import cmd_str
from keepalived_py.vrrp.snapshot import (
    AddressView,
    InstanceSettings,
    InstanceSnapshot,
    NotifyView,
    TrackedView,
)

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

# keepalived's rt_scopes names (get_rttables_scope)
SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
FOREVER = 0xFFFFFFFF
# the JSON keys of vrrp_json.c's script fields, in its order, with where our Notifier keeps them
SCRIPT_KEYS = (("script_backup", "BACKUP", "Backup"), ("script_master", "MASTER", "Master"),
               ("script_fault", "FAULT", "Fault"), ("script_stop", "STOP", "Stop"),
               ("script_deleted", "DELETED", "Deleted"), ("script", "generic", "Generic"),
               ("script_master_rx_lower_pri", "rx_lower_pri", "Master rx lower pri"))


def address_text(iface: IPv4Interface | IPv6Interface) -> str:
    """ipaddresstos(): the address, with /prefix unless a host prefix."""
    full = 32 if iface.version == 4 else 128
    plen = iface.network.prefixlen
    return str(iface.ip) if plen == full else f"{iface.ip}/{plen}"


def address_view(va: Any, dev: str, base_dev: str | None) -> AddressView:
    """A config VirtualAddress as keepalived's format_ipaddress() sees it."""
    flags = []
    if va.home:
        flags.append("home")
    if va.nodad:
        flags.append("-nodad")
    if va.mngtmpaddr:
        flags.append("mngtmpaddr")
    if va.noprefixroute:
        flags.append("noprefixroute")
    if va.autojoin:
        flags.append("autojoin")
    lft = None
    if va.family == 6:
        value = va.effective_preferred_lft
        lft = ("deprecated" if value == 0 else "preferred_lft forever" if value in (None, FOREVER)
               else f"preferred_lft {value}")
    brd = va.broadcast if va.family == 4 else None
    return AddressView(
        text=address_text(va.address), dev=va.dev or dev, base_dev=None if va.dev else base_dev,
        broadcast=str(brd) if brd else None, scope=SCOPES.get(va.scope or 0, str(va.scope)),
        label=va.label, peer=None if va.peer is None else f"{va.peer.ip}/{va.address.network.prefixlen}",
        flags=tuple(flags), no_track=va.no_track, track_group=va.track_group, preferred_lft=lft)


def settings_for(plan: Any, params: Any, config: KeepalivedConfig, notify_scripts: Any = None,
                 script_commands: Mapping[str, str] | None = None) -> InstanceSettings:
    """InstanceSettings from the runtime's InstancePlan, the core's parameters, the loaded
    config (global_defs), the Notifier's prepared scripts for this instance (`_Scripts`:
    by_state / generic / rx_lower_pri) and the tracked scripts' commands by name."""
    model = plan.model
    g = getattr(config, "global_defs", None)
    ifname = plan.key[0]
    vmac = plan.vmac
    dev = vmac.name if vmac is not None else ifname
    base = ifname if vmac is not None else None
    family = plan.key[2]
    vips = tuple(address_view(v, dev, base) for v in model.virtual_ipaddress if v.family == family)
    evips = tuple(address_view(v, dev, base) for v in model.virtual_ipaddress_excluded)
    scripts = []
    if notify_scripts is not None:
        for key, where, word in SCRIPT_KEYS:
            script = (getattr(notify_scripts, where, None) if where in ("generic", "rx_lower_pri")
                      else notify_scripts.by_state.get(where))
            if script is not None:
                scripts.append(NotifyView(key, word, script.display, script.uid, script.gid))
    cmds = script_commands or {}
    track_names = tuple(r.name for r in model.track_script if r.name in cmds)
    auth_type = int(params.auth_type)
    delay = params.garp_master_delay_s
    return InstanceSettings(
        vmac_ifname=vmac.name if vmac is not None else "",
        strict_mode=bool(plan.strict), accept=bool(plan.accept),
        promote_secondaries=bool(model.promote_secondaries),
        smtp_alert=model.effective_smtp_alert(getattr(g, "smtp_alert_vrrp", None),
                                              getattr(g, "smtp_alert", None)),
        notify_deleted=model.notify_deleted is not None,
        garp_delay_s=delay, garp_refresh_s=params.garp_master_refresh_s,
        garp_rep=params.garp_master_repeat, garp_refresh_rep=params.garp_master_refresh_repeat,
        garp_lower_prio_delay_s=(delay if params.garp_lower_prio_delay_s is None
                                 else params.garp_lower_prio_delay_s),
        garp_lower_prio_rep=(params.garp_master_repeat if params.garp_lower_prio_repeat is None
                             else params.garp_lower_prio_repeat),
        lower_prio_no_advert=params.lower_prio_no_advert,
        higher_prio_send_advert=params.higher_prio_send_advert,
        skip_check_adv_addr=params.skip_check_adv_addr, dont_track_primary=params.dont_track_primary,
        auth_type=auth_type, auth_data=(params.auth_pass[:8].split("\0")[0] if auth_type else ""),
        scripts=tuple(scripts), vips=vips, evips=evips,
        vroutes=tuple(_line(r) for r in plan.routes.values()),
        vrules=tuple(_line(r) for r in plan.rules.values()),
        # keepalived does not track the instance's own interface a second time
        track_ifp=tuple(r.name for r in model.track_interface if r.name not in (ifname, dev)),
        track_script=tuple(cmds[n] for n in track_names), track_script_names=track_names,
        tracked=tuple(TrackedView(t.kind, t.name, t.weight, t.reverse) for t in plan.tracked
                      if t.kind != "config" and not (t.kind == "interface" and t.name in (ifname, dev))),
        mcast_dst=None if params.unicast else str(params.mcast_dst or _default_group(config, family)),
        down_timer_adverts=params.down_timer_adverts, source_from_config=plan.source is not None,
        notify_priority_changes=params.notify_priority_changes, unicast_ttl=plan.unicast_ttl,
        check_unicast_src=params.check_unicast_src,
        # the vrrp->flags bits keepalived sets from configuration (include/vrrp.h)
        any_flag=bool(model.unicast_configured or params.unicast or vmac is not None
                      or params.dont_track_primary or params.skip_check_adv_addr
                      or plan.source is not None or params.check_unicast_src
                      or model.promote_secondaries or params.nopreempt or model.track_src_ip),
        unicast_configured=bool(model.unicast_configured),
        unicast_chksum_compat={"never": "never", "always": "config"}.get(params.old_unicast_checksum, "no"),
        mcast_ifindex=_ifindex(dev) if family == 6 else 0, debug=int(model.debug or 0),
        vmac_addr=bool(model.use_vmac_addr), ipvlan=_ipvlan_text(vmac))


def _ipvlan_text(vmac: Any) -> str:
    """vrrp_data.c's 'Use IPVLAN, i/f NAME, is_up = true[, i/f address = A], type T'
    (ipaddresstos: the prefix only when not a host one)."""
    if vmac is None or vmac.kind != "ipvlan":
        return ""
    addr = ""
    if vmac.address is not None:
        a = vmac.address
        full = a.network.prefixlen == a.max_prefixlen
        addr = f", i/f address = {a.ip}" + ("" if full else f"/{a.network.prefixlen}")
    return f"i/f {vmac.name}, is_up = true{addr}, type {vmac.mode or 'bridge'}"


def _ifindex(name: str) -> int:
    """The interface's index (keepalived prints the IPv6 group's scope id); 0 if unknown."""
    try:
        return socket.if_nametoindex(name)
    except OSError:
        return 0


def _default_group(config: KeepalivedConfig, family: int) -> str:
    g = getattr(config, "global_defs", None)
    value = getattr(g, "vrrp_mcast_group4" if family == 4 else "vrrp_mcast_group6", None)
    return str(value) if value is not None else ("224.0.0.18" if family == 4 else "ff02::12")


def _line(entry: Any) -> str:
    """A route or rule as keepalived's format_iproute() / format_iprule() print it."""
    return format_route(entry) if isinstance(entry, Route) else format_rule(entry)


def script_commands(trackers: Any) -> dict[str, str]:
    """Each vrrp_script's command as its tracker prepared it (cmd_str of the resolved argv)."""
    scripts = getattr(trackers, "scripts", None) or {}
    return {name: cmd_str(t.script.argv) for name, t in scripts.items()}


def runtime_snapshots(runtime: Any, notifier: Any = None, trackers: Any = None) -> list[InstanceSnapshot]:
    """The runtime's instance snapshots with their settings attached, in config order."""
    cmds = script_commands(trackers)
    config = getattr(runtime, "config", None)
    out = []
    for snap, run in zip(runtime.snapshots(), runtime.instances.values(), strict=True):
        scripts = notifier.instances.get(snap.name) if notifier is not None else None
        out.append(dataclasses.replace(snap, settings=settings_for(
            run.plan, run.machine.params, config, scripts, cmds)))
    return out
