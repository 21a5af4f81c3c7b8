"""keepalived.data for the vrrp child, in keepalived 2.2.7's section order (dump_data_vrrp):
Global definitions, VRRP Topology, VRRP Sockpool, VRRP Sync groups, VRRP Scripts, VRRP Track
BFDs, then our own VRRP Sockets section, then Interfaces.

The glue that reads what the pure section writers (observe/global_text.py,
observe/vrrp_sections.py) need from the running vrrp child: the sockets' descriptors, the
sync groups' states, the default script user, and the namespace's links and addresses
(one netlink dump with pyroute2's IPRoute in a worker thread: a dump is rare and the sync
wrapper must not run on the event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from keepalived_py.observe.global_text import global_lines
from keepalived_py.observe.vrrp import wall_us
from keepalived_py.observe.vrrp_sections import (
    LinkView,
    interfaces_lines,
    sockpool_lines,
    sync_group_lines,
)
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.snapshot import InstanceSnapshot
from keepalived_py.vrrpd.plan import sync_groups
from keepalived_py.vrrpd.track_bfd import vrrp_track_bfd_lines

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

__all__ = ["read_links", "vrrp_data_text"]


def _forwarding(name: str) -> bool | None:
    try:
        with open(f"/proc/sys/net/ipv6/conf/{name}/forwarding") as f:
            return f.read().strip() == "1"
    except OSError:
        return None


def read_links() -> list[LinkView]:
    """Every link of this namespace with its addresses (blocking: run it in a thread)."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        links = ipr.get_links()
        addrs = ipr.get_addr()
    v4: dict[int, list[str]] = {}
    v6: dict[int, list[str]] = {}
    for a in addrs:
        where = v4 if a["family"] == socket.AF_INET else v6
        addr = a.get_attr("IFA_LOCAL") or a.get_attr("IFA_ADDRESS")
        if addr:
            where.setdefault(a["index"], []).append(addr)
    out = []
    for link in links:
        name = link.get_attr("IFLA_IFNAME")
        mac = link.get_attr("IFLA_ADDRESS") or ""
        bcast = link.get_attr("IFLA_BROADCAST") or ""
        out.append(LinkView(name=name, index=link["index"], flags=link["flags"], mtu=link.get_attr("IFLA_MTU") or 0,
                            hw_type=link["ifi_type"], mac=bytes.fromhex(mac.replace(":", "")),
                            broadcast=bytes.fromhex(bcast.replace(":", "")),
                            ipv4=tuple(v4.get(link["index"], ())), ipv6=tuple(v6.get(link["index"], ())),
                            ipv6_forwarding=_forwarding(name)))
    return out


def _fds(runtime: Any) -> dict[str, tuple[int, int]]:
    out = {}
    for name, run in runtime.by_name.items():
        rx = run.rx.sock.fileno() if run.rx is not None else -1
        tx = run.tx.sock.fileno() if run.tx is not None else rx
        out[name] = (rx, tx)
    return out


def _na_checked(snaps: Sequence[InstanceSnapshot], wall_offset: float) -> dict[str, float]:
    """keepalived checks IPv6 forwarding when an IPv6 instance sends its NA as MASTER: the
    last such instance's transition stands for that check."""
    out: dict[str, float] = {}
    for s in snaps:
        us = wall_us(s.last_transition, wall_offset)
        if int(s.family) == 6 and s.state == State.MASTER and us is not None:
            ifname = (s.settings.vmac_ifname if s.settings is not None else "") or s.interface
            out[ifname] = max(out.get(ifname, 0.0), us / 1e6)
    return out


def _script_ids(config: KeepalivedConfig) -> tuple[int, int]:
    from keepalived_py.scripts.security import default_script_user

    g = config.global_defs
    user = g.script_user if g is not None else None
    try:
        return default_script_user(user.user if user else None, user.group if user else None,
                                   bool(g is not None and g.enable_script_security))
    except Exception:  # noqa: BLE001 - a dump never fails on a user lookup
        return (0, 0)


def _group_scripts(config: KeepalivedConfig) -> dict[str, list[tuple[str, str, int, int]]]:
    """Each sync group's notify scripts as keepalived writes them: its word, the command as
    the script runner resolves it (keepalived's realpath'd argv, cmd_str), uid and gid."""
    from keepalived_py.observe.vrrp_sections import GROUP_SCRIPTS
    from keepalived_py.scripts.runner import ScriptRunner

    runner = ScriptRunner.from_config(config, log_fn=lambda _line: None)
    out: dict[str, list[tuple[str, str, int, int]]] = {}
    for group in config.vrrp_sync_group:
        for field, word in GROUP_SCRIPTS:
            ns = getattr(group, field, None)
            if ns is None:
                continue
            with contextlib.suppress(Exception):   # a dump never fails on a script lookup
                script, _check = runner.prepare(ns.command, ns.user, ns.group)
                if script is not None:
                    out.setdefault(group.name, []).append((word, script.display, script.uid, script.gid))
    return out


def _track_bfd_lines(runtime: Any, config: KeepalivedConfig) -> list[str]:
    """VRRP Track BFDs: a bfd is up when an instance tracking it last heard it Up."""
    runs = [runtime.by_name[i.name] for i in config.vrrp_instance if i.name in runtime.by_name]
    bfd_up = {key[1]: bool(st.ok) for run in runs for key, st in run.machine.tracking.status.items()
              if key[0] == "bfd" and st.ok is not None}
    return vrrp_track_bfd_lines(config.bfd_instance, [(r.plan.name, r.plan.tracked) for r in runs],
                                sync_groups(config), bfd_up)


async def vrrp_data_text(runtime: Any, config: KeepalivedConfig, snaps: Sequence[InstanceSnapshot], topology: str,
                         scripts: str, ours: str) -> str:
    """The whole file: `topology` (VRRP Topology), `scripts` (VRRP Scripts) and `ours` (VRRP
    Sockets) are the existing sections' texts, placed where keepalived puts its own."""
    links: list[LinkView] = []
    with contextlib.suppress(Exception):   # a dump without Interfaces rather than none
        links = await asyncio.get_running_loop().run_in_executor(None, read_links)
    g = config.global_defs
    mcast = (str(g.vrrp_mcast_group4), str(g.vrrp_mcast_group6)) if g is not None else ("224.0.0.18", "ff02::12")
    groups = {run.sync.name: run.sync.state for run in runtime.by_name.values() if run.sync is not None}
    parts = ["\n".join(global_lines(config, script_ids=_script_ids(config), hostname=socket.gethostname())), topology]
    rx_bufs = {name: run.rx_buf for name, run in runtime.by_name.items()}
    parts.append("\n".join(sockpool_lines(snaps, _fds(runtime), *mcast, rx_bufs=rx_bufs)))
    parts.append("\n".join(sync_group_lines(config, snaps, groups, _group_scripts(config))))
    parts += [scripts, "\n".join(_track_bfd_lines(runtime, config)), ours]
    parts.append("\n".join(interfaces_lines(links, snaps, config, _na_checked(snaps, runtime.wall_offset()))))
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts if p)
