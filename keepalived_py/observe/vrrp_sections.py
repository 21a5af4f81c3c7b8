"""keepalived.data's VRRP Sockpool, VRRP Sync groups and Interfaces sections, as keepalived
2.2.7 writes them (vrrp_data.c dump_sock_pool() / dump_sync_group(), vrrp_if.c dump_if()).

- Sockpool: keepalived's grouping of instances into sockets (vrrp_create_sockpool: one
  socket per family, protocol (AH or VRRP), interface and multicast group, or unicast source
  address; instances by VRID inside), from the instances' snapshots. keepalived-py's own
  sockets are fewer (one per interface, family and protocol: unicast and multicast share
  it); fd_in / fd_out show the descriptors of the socket the group's first instance uses.
- Sync groups: each group's state, its members' fault / init counts, its members in the
  configuration's order, smtp notification (the group's, else the global defaults).
- Interfaces: each link of the namespace as netlink reports it (the `LinkView` records a
  caller reads), with the instances that track it. Not written (keepalived-py keeps no
  such state): additional addresses, VMAC / IPVLAN details, garp_group intervals.

Pure: snapshots, configuration and link records in, lines out.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.snapshot import InstanceSnapshot
from keepalived_py.vrrpd.track_bfd import vrrp_tracked_bfds

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

__all__ = ["LinkView", "interfaces_lines", "sockpool_lines", "sync_group_lines"]

IPPROTO_AH, IPPROTO_VRRP = 51, 112
AUTH_AH = 2
IFF_UP, IFF_BROADCAST, IFF_LOOPBACK, IFF_POINTOPOINT = 0x1, 0x2, 0x8, 0x10
IFF_RUNNING, IFF_NOARP, IFF_MULTICAST = 0x40, 0x80, 0x1000
ARPHRD_ETHER, ARPHRD_LOOPBACK = 1, 772


def _settings(s: InstanceSnapshot) -> Any:
    return s.settings


def sockpool_lines(snaps: Sequence[InstanceSnapshot], fds: Mapping[str, tuple[int, int]] | None = None,
                   mcast4: str = "224.0.0.18", mcast6: str = "ff02::12",
                   rx_bufs: Mapping[str, int] | None = None) -> list[str]:
    """The section (header included), or nothing when there are no instances. `rx_bufs`:
    each instance's share of its socket's receive buffer (vrrp_rx_bufs_policy,
    kernel_rx_buf_size), summed per socket as keepalived does."""
    fds = fds or {}
    rx_bufs = rx_bufs or {}
    groups: list[tuple[tuple, list[InstanceSnapshot]]] = []
    for s in snaps:
        c = _settings(s)
        auth = c.auth_type if c is not None else 0
        ifname = (c.vmac_ifname if c is not None else "") or s.interface
        mcast = (c.mcast_dst if c is not None else None) or (mcast4 if int(s.family) == 4 else mcast6)
        unicast = str(s.source) if s.unicast_peers and s.source is not None else None
        key = (int(s.family), IPPROTO_AH if auth == AUTH_AH else IPPROTO_VRRP, ifname,
               ("unicast", unicast) if s.unicast_peers else ("multicast", mcast))
        for k, members in groups:
            if k == key:
                members.append(s)
                break
        else:
            groups.append((key, [s]))
    if not groups:
        return []
    out = ["------< VRRP Sockpool >------"]
    for (family, proto, ifname, (kind, addr)), members in groups:
        fd_in, fd_out = fds.get(members[0].name, (-1, -1))
        out += [f" fd_in {fd_in} fd_out = {fd_out}", f"   Interface = {ifname}",
                f"   Family = IPv{family}", f"   Protocol = {'AH' if proto == IPPROTO_AH else 'VRRP'}",
                f"   Type = {'Uni' if kind == 'unicast' else 'Multi'}cast"]
        if kind == "unicast":
            out.append(f"   Address = {addr}")
        out += [f"   Rx buf size = {sum(rx_bufs.get(m.name, 0) for m in members)}", "   VRRP instances"]
        out += [f"     {m.name} vrid {m.vrid}" for m in sorted(members, key=lambda m: m.vrid)]
    return out


def _group_smtp(group: Any, config: KeepalivedConfig) -> bool:
    if group.smtp_alert is not None:
        return bool(group.smtp_alert)
    g = config.global_defs
    if g is not None and g.smtp_alert_vrrp is not None:
        return bool(g.smtp_alert_vrrp)
    return bool(g is not None and g.smtp_alert)


#: dump_sync_group()'s notify scripts, in its order: (model field, keepalived's word)
GROUP_SCRIPTS = (("notify_backup", "Backup"), ("notify_master", "Master"), ("notify_fault", "Fault"),
                 ("notify_stop", "Stop"), ("notify", "Generic"))


def _group_tracking(group: Any) -> list[str]:
    """Tracked interfaces. keepalived 2.2.7 hands a group's track_script (file, process)
    entries to its members at start, so its dump lists none for the group (its Tracked BFDs
    stay: sync_group_lines)."""
    out = []
    if group.track_interface:
        out.append("   Tracked interfaces :")
        out += [f"     {r.name} weight {r.weight or 0}{' reverse' if r.reverse else ''}" for r in group.track_interface]
    return out


def sync_group_lines(config: KeepalivedConfig, snaps: Sequence[InstanceSnapshot], states: Mapping[str, State],
                     scripts: Mapping[str, Sequence[tuple[str, str, int, int]]] | None = None) -> list[str]:
    """The section for the configuration's sync groups that run (`states`: group name ->
    the group's state, as the runtime's SyncGroup objects hold it; `scripts`: group name ->
    its notify scripts as (keepalived's word, command text, uid, gid))."""
    scripts = scripts or {}
    by_name = {s.name: s for s in snaps}
    out: list[str] = []
    for group in config.vrrp_sync_group:
        if group.name not in states:
            continue
        members = [by_name[m] for m in group.group if m in by_name]
        fault = sum(1 for m in members if m.state == State.FAULT)
        init = sum(1 for m in members if m.state == State.INIT)
        out += [f" VRRP Sync Group = {group.name}, {states[group.name].value}",
                f"   Num member fault {fault}, num member init {init}"]
        if members:
            out.append("   VRRP member instances :")
            out += [f"     {m.name}" for m in members]
        if group.sync_group_tracking_weight or group.global_tracking:
            out.append("   sync group tracking weight set")
        out.append(f"   Using smtp notification = {'yes' if _group_smtp(group, config) else 'no'}")
        if group.notify_priority_changes is not None:
            out.append(f"   Notify priority changes = {'yes' if group.notify_priority_changes else 'no'}")
        out += _group_tracking(group)
        bfds = vrrp_tracked_bfds(config.bfd_instance, group.track_bfd, group.pos)
        if bfds:  # dump_tracked_bfd, as for an instance
            out.append("   Tracked BFDs :")
            out += [f"     {b.name}: weight {b.weight}{' reverse' if b.reverse else ''}" for b in bfds]
        out += [f"   {word} state transition script = {cmd}, uid:gid {uid}:{gid}"
                for word, cmd, uid, gid in scripts.get(group.name, ())]
    return ["------< VRRP Sync groups >------", *out] if out else []


@dataclass(frozen=True, slots=True)
class LinkView:
    """One link as netlink reports it (RTM_NEWLINK and its addresses)."""

    name: str
    index: int
    flags: int
    mtu: int
    hw_type: int
    mac: bytes = b""
    broadcast: bytes = b""
    ipv4: tuple[str, ...] = ()          # in the kernel's order (the primary first)
    ipv6: tuple[str, ...] = ()
    ipv6_forwarding: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _state(flags: int) -> str:
    return (f"{'' if flags & IFF_UP else 'not '}UP, {'' if flags & IFF_RUNNING else 'not '}RUNNING"
            f"{'' if flags & IFF_BROADCAST else ', no broadcast'}{', loopback' if flags & IFF_LOOPBACK else ''}"
            f"{', point to point' if flags & IFF_POINTOPOINT else ''}{', no arp' if flags & IFF_NOARP else ''}"
            f"{'' if flags & IFF_MULTICAST else ', no multicast'}")


def _ctime_us(wall: float) -> str:
    sec = int(wall)
    usec = int(round((wall - sec) * 1e6))
    if usec == 1_000_000:
        sec, usec = sec + 1, 0
    return f"{sec}.{usec:06d} ({time.asctime(time.localtime(sec))}.{usec:06d})"


def _tracking(link: LinkView, snaps: Sequence[InstanceSnapshot]) -> list[str]:
    out = []
    for s in snaps:
        c = _settings(s)
        ifname = (c.vmac_ifname if c is not None else "") or s.interface
        if link.name in (ifname, s.interface):
            out.append(f"     {s.name}, weight 0")
        elif c is not None:
            out += [f"     {s.name}, weight {t.weight}" for t in c.tracked
                    if t.kind == "interface" and t.name == link.name]
    return out


def _garp_lines(link: LinkView, snaps: Sequence[InstanceSnapshot], config: KeepalivedConfig) -> list[str]:
    """set_default_garp_delay(): the global vrrp_garp_interval / vrrp_gna_interval on every
    interface an instance uses (garp_group's own pacing is not written)."""
    g = config.global_defs
    if g is None or not (g.vrrp_garp_interval or g.vrrp_gna_interval):
        return []
    if not any(link.name == s.interface for s in snaps):
        return []
    out = []
    if g.vrrp_garp_interval:
        out.append(f"   Gratuitous ARP interval {round(g.vrrp_garp_interval * 1000)}ms")
    if g.vrrp_gna_interval:
        out.append(f"   Gratuitous NA interval {round(g.vrrp_gna_interval * 1000)}ms")
    return out


def interfaces_lines(links: Sequence[LinkView], snaps: Sequence[InstanceSnapshot], config: KeepalivedConfig,
                     na_checked: Mapping[str, float] | None = None) -> list[str]:
    """The section for `links` (in ifindex order). `na_checked`: interface -> wall time of
    the last IPv6 forwarding check (an IPv6 instance there became MASTER and sent its NA)."""
    if not links:
        return []
    na_checked = na_checked or {}
    vips = {str(a).split("/")[0] for s in snaps for a in (*s.virtual_ipaddress, *s.virtual_ipaddress_excluded)}
    delays = {d.name: d for d in getattr(config, "interface_up_down_delays", ())}
    polling = bool(getattr(config, "linkbeat_use_polling", False))
    out = ["------< Interfaces >------"]
    for link in sorted(links, key=lambda li: li.index):
        v4 = [a for a in link.ipv4 if a not in vips]
        ll = [a for a in link.ipv6 if a.lower().startswith("fe80:")]
        out += [f" Name = {link.name}", f"   index = {link.index}",
                f"   IPv4 address = {v4[0] if v4 else '(none)'}",
                f"   IPv6 address = {ll[0] if ll else '(none)'}"]
        if link.mac and any(link.mac):
            out += [f"   MAC = {_mac(link.mac)}", f"   MAC broadcast = {_mac(link.broadcast)}"]
        d = delays.get(link.name)
        up_us = int(round(getattr(d, "effective_up_delay", 0) * 1e6)) if d is not None else 0
        down_us = int(round(getattr(d, "down_delay", 0) * 1e6)) if d is not None else 0
        out += [f"   State = {_state(link.flags)}", f"   Seen up = {1 if link.flags & IFF_UP else 0}",
                "   Delayed state change running = false",
                f"   Up debounce timer = {up_us}us", f"   Down debounce timer = {down_us}us",
                f"   MTU = {link.mtu}"]
        hw = {ARPHRD_LOOPBACK: "LOOPBACK", ARPHRD_ETHER: "ETHERNET"}.get(link.hw_type)
        out.append(f"   HW Type = {hw}" if hw else f"   HW Type = UNKNOWN ({link.hw_type})")
        out.append("   NIC ioctl refresh polling" if polling else "   NIC netlink status update")
        out += _garp_lines(link, snaps, config)
        out += ["   Reset ARP config counter 0", "   Original arp_ignore 0", "   Original arp_filter 0",
                "   Original promote_secondaries 0", "   Reset promote_secondaries counter 0"]
        if link.name in na_checked:
            out.append(f"   {'' if link.ipv6_forwarding else 'Not '}IPv6 forwarding. Last checked "
                       f"{_ctime_us(na_checked[link.name])}")
        tracking = _tracking(link, snaps)
        if tracking:
            out += ["   Tracking VRRP instances :", *tracking]
    return out
