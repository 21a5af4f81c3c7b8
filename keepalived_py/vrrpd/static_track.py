"""Static track groups: vrrp instances that track the interfaces of static addresses, routes
and rules (keepalived 2.2.7 vrrp_static_track.c static_track_group_init).

Why: `track_group NAME { group { VI_1 ... } }` names instances, and a static_ipaddress /
static_routes / static_rules entry with `track_group NAME` makes each of them track the
entry's interface (an address's dev, else the default interface; a route's dev; a rule's
iif) at weight 0: that interface down puts the instance in FAULT. An instance already
tracking that interface with a weight tracks it at weight 0 from then on (add_vrrp_to_interface
keeps the weight only while the new one is 'not tracked'), and with dont_track_primary its
own interface is tracked again. An entry with `no_track` is not tracked, with keepalived's
line. The vrrp child logs keepalived's start lines for these (log_message, not -t).

Not done here: keepalived also re-adds a static address or route deleted behind its back
(reinstate_static_address/route); keepalived-py installs static entries at start only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig


def static_tracking(config: KeepalivedConfig, default_if: str) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """Per instance name, the interfaces its static track groups make it track (in
    keepalived's order: addresses, routes, rules); and the lines keepalived logs at start."""
    known = {i.name for i in config.vrrp_instance}
    lines: list[str] = []
    groups: dict[str, list[str]] = {}
    for tg in config.track_group:
        if not tg.group:
            lines += [f"Static track group {tg.name} has no virtual router(s)",
                      f"Static track group {tg.name} init fails - removing"]
            continue
        members = []
        for name in tg.group:
            if name not in known:
                lines.append(f"vrrp instance {name} specified in track group {tg.name} doesn't exist - ignoring")
                continue
            members.append(name)
        if not members:
            lines += [f"Static track group {tg.name} has no VRRP instance(s)",
                      f"Static track group {tg.name} init fails - removing"]
            continue
        groups.setdefault(tg.name, members)
    out: dict[str, list[str]] = {}
    entries = ([("address", a.track_group, a.no_track, a.dev or default_if) for a in config.static_ipaddress]
               + [("route", r.track_group, r.no_track, r.dev) for r in config.static_routes]
               + [("rule", r.track_group, r.no_track, r.iif) for r in config.static_rules])
    defined = {tg.name for tg in config.track_group}
    for what, group, no_track, ifname in entries:
        if group is None or group not in defined:
            continue  # an unknown name is dropped at parse time ('track_group X not found')
        if no_track:
            lines.append(f"Static {what} has both track_group and no_track set - not tracking")
            continue
        if group not in groups or ifname is None:
            continue  # a removed group; a multipath route (no oif) or a rule without iif
        for name in groups[group]:
            tracked = out.setdefault(name, [])
            if ifname not in tracked:
                tracked.append(ifname)
    return {k: tuple(v) for k, v in out.items()}, lines
