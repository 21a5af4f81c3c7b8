"""The VRRP sections of keepalived's dump files, as views of instance snapshots.

keepalived.stats (USR2), the VRRP topology of keepalived.data (USR1) and keepalived.json
(the JSON signal) are built here from `InstanceSnapshot` values only, so a field that is
printed is a field the core keeps. Times in a snapshot are monotonic; keepalived prints
wall-clock timestamps (its timer_now() is the monotonic clock plus the realtime offset
taken at start), so every view takes `wall_offset`, the seconds to add to a monotonic time
to get the wall clock, from the runtime that owns both clocks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.snapshot import AddressView, InstanceSettings, InstanceSnapshot

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


def format_address(a: AddressView, installed: bool) -> str:
    """keepalived's format_ipaddress(): '192.0.2.100/24 dev eth0 scope global set'."""
    out = a.text
    if a.broadcast:
        out += f" brd {a.broadcast}"
    out += f" dev {a.dev}"
    if a.base_dev:
        out += f"@{a.base_dev}"
    out += f" scope {a.scope}"
    if a.label:
        out += f" label {a.label}"
    if a.peer:
        out += f" peer {a.peer}"
    for flag in a.flags:
        out += f" {flag}"
    if a.no_track:
        out += " no_track"
    if a.track_group:
        out += f" track_group {a.track_group}"
    if a.preferred_lft:
        out += f" {a.preferred_lft}"
    return out + (" set" if installed else "")


class G(float):
    """A double keepalived's json_writer prints with "%g" (5.0 -> 5, 0.5 -> 0.5)."""


class F6(int):
    """Wall-clock microseconds keepalived prints as seconds with "%f"."""


def _settings(s: InstanceSnapshot) -> InstanceSettings:
    return s.settings if s.settings is not None else InstanceSettings()


def json_objects(snaps: Sequence[InstanceSnapshot], wall_offset: float) -> list[dict[str, Any]]:
    """keepalived.json's tree (vrrp_json.c): per instance {"data": ..., "stats": ...}, the
    keys in keepalived's order, optional keys only where keepalived writes them. Floats
    keepalived prints with %g are `G`, last_transition is `F6` (see json_text)."""
    out = []
    for s in snaps:
        c = _settings(s)
        transition = wall_us(s.last_transition, wall_offset)
        d: dict[str, Any] = {
            "iname": s.name, "dont_track_primary": int(c.dont_track_primary),
            "skip_check_adv_addr": int(c.skip_check_adv_addr), "strict_mode": int(c.strict_mode),
            "vmac_ifname": c.vmac_ifname, "ifp_ifname": s.interface,
            "master_priority": s.master_priority,
            "last_transition": F6(transition or 0),
            "garp_delay": G(c.garp_delay_s), "garp_refresh": int(c.garp_refresh_s),
            "garp_rep": c.garp_rep, "garp_refresh_rep": c.garp_refresh_rep,
            "garp_lower_prio_delay": int(c.garp_lower_prio_delay_s),
            "garp_lower_prio_rep": c.garp_lower_prio_rep,
            "lower_prio_no_advert": int(c.lower_prio_no_advert),
            "higher_prio_send_advert": int(c.higher_prio_send_advert),
            "vrid": s.vrid, "base_priority": s.base_priority,
            "effective_priority": s.effective_priority, "vipset": s.vipset,
            "promote_secondaries": c.promote_secondaries,
            "adver_int": G(s.advert_int_s), "master_adver_int": G(s.master_adver_int_us / 1e6),
            "accept": int(c.accept), "nopreempt": s.nopreempt,
            "preempt_delay": int(s.preempt_delay_s), "state": STATE_NUMBERS[s.state],
            "wantstate": STATE_NUMBERS[s.wantstate], "version": s.version,
            "smtp_alert": c.smtp_alert, "notify_deleted": c.notify_deleted,
        }
        d.update(c.scripts)
        for key, values in (("vips", [format_address(a, s.vipset) for a in c.vips]),
                            ("evips", [format_address(a, s.vipset) for a in c.evips]),
                            ("vroutes", list(c.vroutes)), ("vrules", list(c.vrules)),
                            ("track_ifp", list(c.track_ifp)), ("track_script", list(c.track_script))):
            if values:
                d[key] = values
        d["auth_type"] = c.auth_type
        if c.auth_type:
            d["auth_data"] = c.auth_data
        out.append({"data": d, "stats": {k: getattr(s.stats, k) for k in JSON_STATS}})
    return out


#: the counters vrrp_json.c writes, in its order (ours beyond these stay out of the file)
JSON_STATS = ("advert_rcvd", "advert_sent", "become_master", "release_master", "packet_len_err",
              "advert_interval_err", "ip_ttl_err", "invalid_type_rcvd", "addr_list_err",
              "invalid_authtype", "authtype_mismatch", "auth_failure", "pri_zero_rcvd",
              "pri_zero_sent")


def _jstr(text: str) -> str:
    """json_writer.c jsonw_puts(): C escapes and '/' as '\\/', nothing else escaped
    (so a backslash comes out as '\\n', keepalived's own slip, kept: parsers read it)."""
    table = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f", "\b": "\\b",
             "\\": "\\n", '"': '\\"', "/": "\\/"}
    return '"' + "".join(table.get(ch, ch) for ch in text) + '"'


def _jvalue(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, F6):
        sec, usec = divmod(int(v), 1_000_000)
        return f"{sec}.{usec:06d}"
    if isinstance(v, G):
        return f"{float(v):g}"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, str):
        return _jstr(v)
    if isinstance(v, list | tuple):
        return "[" + ",".join(_jvalue(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{_jstr(k)}:{_jvalue(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no JSON form for {type(v).__name__}")


def json_text(snaps: Sequence[InstanceSnapshot], wall_offset: float) -> str:
    """keepalived.json byte for byte as keepalived's json_writer writes it: compact, no
    trailing newline, '/' escaped, %g doubles."""
    return _jvalue(json_objects(snaps, wall_offset))


def json_data(snaps: Sequence[InstanceSnapshot], wall_offset: float) -> list[dict[str, Any]]:
    """keepalived.json as a reader (an exporter, a test) gets it after json.loads."""
    return json.loads(json_text(snaps, wall_offset))
