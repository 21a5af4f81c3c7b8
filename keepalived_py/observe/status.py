"""The vrrp child's state as plain data, and the --status table made from it.

The metrics endpoint and the control socket run in the parent; they ask the vrrp child
for a "snapshot" over ipc and get `vrrp_view()`'s dict: JSON-able, versioned, built from
the same `InstanceSnapshot` values as keepalived's dumps (so a number in a scrape is the
number in keepalived.json). The check child adds its own "check" part the same way
(observe/check.py); views read parts they know and ignore others.

Pure: wall-clock times come in as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from keepalived_py.observe.vrrp import STATE_NUMBERS, STATE_WORDS, format_address, wall_us
from keepalived_py.vrrp.snapshot import InstanceSnapshot

VIEW_VERSION = 1


def instance_record(s: InstanceSnapshot, wall_offset: float) -> dict[str, Any]:
    """One instance: what the table and the metrics show, wall-clock seconds for times."""
    c = s.settings
    transition = wall_us(s.last_transition, wall_offset)
    vips = [format_address(a, s.vipset) for a in c.vips] if c is not None else \
        [str(a) for a in s.virtual_ipaddress]
    evips = [format_address(a, s.vipset) for a in c.evips] if c is not None else \
        [str(a) for a in s.virtual_ipaddress_excluded]
    return {
        "name": s.name, "interface": s.interface, "vrid": s.vrid, "family": int(s.family),
        # keepalived's ifp_ifname (the VMAC with use_vmac): keepalived-exporter's "intf"
        "ifp": (c.vmac_ifname if c is not None else "") or s.interface,
        "version": s.version, "state": STATE_WORDS[s.state], "state_number": STATE_NUMBERS[s.state],
        "wantstate": STATE_WORDS[s.wantstate],
        "base_priority": s.base_priority, "effective_priority": s.effective_priority,
        "total_priority": s.total_priority,
        "master_address": None if s.master_saddr is None else str(s.master_saddr),
        "master_priority": s.master_priority,
        "source": None if s.source is None else str(s.source),
        "last_transition": None if transition is None else transition / 1e6,
        "vipset": s.vipset, "vips": vips, "evips": evips,
        "garp_delay": c.garp_delay_s if c is not None else None,
        "sync_group": s.sync_group,
        "tracked": [{"kind": t.kind, "name": t.name, "weight": t.weight} for t in c.tracked]
        if c is not None else [],
        "faults": s.num_script_if_fault,
        "stats": s.stats.as_dict(),
    }


def vrrp_view(snaps: Sequence[InstanceSnapshot], wall_offset: float, *,
              trackers: Mapping[str, Any] | None = None,
              sockets: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The vrrp child's answer to a snapshot request: instances, its trackers' view
    (Trackers.snapshot(): scripts, files, processes) and socket-level counters."""
    return {"version": VIEW_VERSION, "role": "vrrp",
            "instances": [instance_record(s, wall_offset) for s in snaps],
            "trackers": dict(trackers or {}), "sockets": dict(sockets or {})}


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"


def _short_vip(line: str) -> str:
    return line.split(" ", 1)[0]


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def check_rows(check: Mapping[str, Any]) -> list[str]:
    """The virtual servers: one row per real server with its health and weight (effective,
    and the configured one when they differ), and whether IPVS has it."""
    rows = [("VIRTUAL SERVER", "QUORUM", "REAL SERVER", "HEALTH", "WEIGHT", "IPVS", "CHECKERS")]
    for vs in check.get("virtual_servers", []):
        quorum = f"{'up' if vs.get('quorum_up') else 'DOWN'} ({vs.get('weight_sum', 0)}/{vs.get('quorum', 1)})"
        first = True
        for rs in vs.get("real_servers", []):
            weight = str(rs.get("weight"))
            if rs.get("configured_weight") != rs.get("weight"):
                weight += f" ({rs.get('configured_weight')})"
            checkers = ",".join(f"{c['kind']}:{'up' if c.get('up') else 'down'}" for c in rs.get("checkers", []))
            rows.append((vs["name"] if first else "", quorum if first else "", rs["name"],
                         "up" if rs.get("alive") else "DOWN", weight,
                         "in" if rs.get("in_table") else "-", checkers or "-"))
            first = False
        if first:
            rows.append((vs["name"], quorum, "-", "-", "-", "-", "-"))
    lines = _columns(rows)
    if len(rows) == 1:
        lines.append("(no virtual servers)")
    return lines


def status_table(view: Mapping[str, Any], now_wall: float) -> str:
    """The --status text: one row per instance; VIPs by address (the full lines are in
    --json)."""
    vrrp = view.get("vrrp") or {}
    rows = [("INSTANCE", "STATE", "PRIO (BASE)", "INTERFACE", "VRID", "MASTER", "VIPS", "SINCE")]
    for inst in vrrp.get("instances", []):
        master = inst.get("master_address") or "-"
        if inst.get("state") == "MASTER":
            master = f"self ({inst.get('source') or '-'})"
        since = None if inst.get("last_transition") is None else now_wall - inst["last_transition"]
        vips = ",".join(_short_vip(v) for v in inst.get("vips", [])) or "-"
        rows.append((inst["name"], inst["state"], f"{inst['effective_priority']} ({inst['base_priority']})",
                     inst["interface"], str(inst["vrid"]), master, vips, _ago(since)))
    check = view.get("check")
    lines: list[str] = []
    if len(rows) > 1 or check is None:
        lines = _columns(rows)
    if len(rows) == 1 and check is None:
        lines.append("(no VRRP instances)" if view.get("vrrp") is not None else "(no VRRP child running)")
    if check is not None:
        if lines:
            lines.append("")
        lines += check_rows(check)
    parent = view.get("parent") or {}
    if parent:
        lines.append("")
        lines.append(f"daemon pid {parent.get('pid')}, config {parent.get('config_file')} "
                     f"(sha256 {str(parent.get('config_hash', ''))[:12]}), reloads {parent.get('reloads', 0)} "
                     f"(failed {parent.get('reload_failures', 0)})")
    return "\n".join(lines) + "\n"
