"""The VRRP sections of keepalived's dump files, as views of instance snapshots.

keepalived.stats (USR2), the VRRP topology of keepalived.data (USR1) and keepalived.json
(the JSON signal) are built here from `InstanceSnapshot` values only, so a field that is
printed is a field the core keeps. Times in a snapshot are monotonic; keepalived prints
wall-clock timestamps (its timer_now() is the monotonic clock plus the realtime offset
taken at start), so every view takes `wall_offset`, the seconds to add to a monotonic time
to get the wall clock, from the runtime that owns both clocks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.snapshot import InstanceSnapshot

# keepalived's VRRP_STATE_* numbers, as keepalived.json writes "state" / "wantstate"
STATE_NUMBERS: dict[State, int] = {State.INIT: 0, State.BACKUP: 1, State.MASTER: 2,
                                   State.FAULT: 3, State.STOP: 98}


def wall_us(mono: float | None, wall_offset: float) -> int | None:
    """A snapshot's monotonic time as wall-clock microseconds (keepalived's timeval)."""
    return None if mono is None else round((mono + wall_offset) * 1_000_000)


def ctime_us(us: int) -> str:
    """keepalived's ctime_us_r(): asctime's local time with microseconds before the year,
    e.g. 'Wed Dec  2 04:43:43.096005 2026'."""
    sec, usec = divmod(us, 1_000_000)
    tm = time.localtime(sec)
    text = time.asctime(tm)
    return f"{text[:19]}.{usec:06d} {tm.tm_year}"


def stats_text(snaps: Sequence[InstanceSnapshot]) -> str:
    lines = []
    for s in snaps:
        st = s.stats
        lines += [
            f"VRRP Instance: {s.name}",
            "  Advertisements:",
            f"    Received: {st.advert_rcvd}",
            f"    Sent: {st.advert_sent}",
            f"  Became master: {st.become_master}",
            f"  Released master: {st.release_master}",
            "  Packet Errors:",
            f"    Length: {st.packet_len_err}",
            f"    TTL: {st.ip_ttl_err}",
            f"    Invalid Type: {st.invalid_type_rcvd}",
            f"    Advertisement Interval: {st.advert_interval_err}",
            f"    Address List: {st.addr_list_err}",
            "  Authentication Errors:",
            f"    Invalid Type: {st.invalid_authtype}",
            f"    Type Mismatch: {st.authtype_mismatch}",
            f"    Failure: {st.auth_failure}",
            "  Priority Zero:",
            f"    Received: {st.pri_zero_rcvd}",
            f"    Sent: {st.pri_zero_sent}",
        ]
    return "\n".join(lines) + ("\n" if lines else "")


def data_text(snaps: Sequence[InstanceSnapshot], wall_offset: float) -> str:
    """The '------< VRRP Topology >------' section of keepalived.data."""
    lines = ["------< VRRP Topology >------"]
    for s in snaps:
        lines += [
            f" VRRP Instance = {s.name}",
            f"   State = {s.state.value}",
            f"   Wantstate = {s.wantstate.value}",
            f"   Interface = {s.interface}",
            f"   Using src_ip = {s.source}",
            f"   Virtual Router ID = {s.vrid}",
            f"   Priority = {s.base_priority}",
            f"   Effective priority = {s.effective_priority}",
            f"   Advert interval = {s.advert_int_s} sec",
            f"   VRRP Version = {s.version}",
        ]
        if s.state == State.BACKUP:
            # keepalived's vrrp_print_data: the master's view only while BACKUP
            lines += [f"   Master router = {s.master_saddr}",
                      f"   Master priority = {s.master_priority}"]
            if s.version == 3:
                lines.append(f"   Master advert int = {s.master_adver_int_us / 1e6:.2f} sec")
        transition = wall_us(s.last_transition, wall_offset)
        if transition is not None:
            sec, usec = divmod(transition, 1_000_000)
            lines.append(f"   Last transition = {sec}.{usec:06d} ({ctime_us(transition)})")
        lines += [
            f"   Preempt = {'disabled' if s.nopreempt else 'enabled'}",
            f"   Preempt delay = {s.preempt_delay_s} secs",
        ]
        if s.sync_group:
            lines.append(f"   Sync group = {s.sync_group}")
        if s.unicast_peers:
            lines.append(f"   Unicast Peer = {len(s.unicast_peers)}")
            lines += [f"     {p}" for p in s.unicast_peers]
        lines.append(f"   Virtual IP = {len(s.virtual_ipaddress)}")
        lines += [f"     {v} dev {s.interface}" for v in s.virtual_ipaddress]
    return "\n".join(lines) + "\n"


def json_data(snaps: Sequence[InstanceSnapshot], wall_offset: float) -> list[dict[str, Any]]:
    """keepalived.json: one {"data": ..., "stats": ...} object per instance, keepalived's
    key names and units (seconds as floats, last_transition a wall-clock timestamp)."""
    out = []
    for s in snaps:
        transition = wall_us(s.last_transition, wall_offset)
        out.append({
            "data": {
                "iname": s.name, "ifp_ifname": s.interface,
                "master_priority": s.master_priority,
                "last_transition": 0.0 if transition is None else transition / 1e6,
                "vrid": s.vrid,
                "base_priority": s.base_priority, "effective_priority": s.effective_priority,
                "vipset": s.vipset, "state": STATE_NUMBERS[s.state],
                "wantstate": STATE_NUMBERS[s.wantstate], "version": s.version,
                "adver_int": s.advert_int_s, "master_adver_int": s.master_adver_int_us / 1e6,
                "nopreempt": s.nopreempt, "preempt_delay": s.preempt_delay_s,
                "vips": [str(a) for a in s.virtual_ipaddress],
                "evips": [str(a) for a in s.virtual_ipaddress_excluded],
                "unicast_peer": [str(a) for a in s.unicast_peers],
            },
            "stats": s.stats.as_dict(),
        })
    return out
