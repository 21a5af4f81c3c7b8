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
from collections.abc import Mapping, Sequence
from typing import Any

from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.packet import Family
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


STATE_WORDS: dict[State, str] = {State.INIT: "INIT", State.BACKUP: "BACKUP", State.MASTER: "MASTER",
                                 State.FAULT: "FAULT", State.STOP: "STOP"}


def _stamp(us: int) -> str:
    sec, usec = divmod(us, 1_000_000)
    return f"{sec}.{usec:06d} ({ctime_us(us)})"


def instance_lines(s: InstanceSnapshot, wall_offset: float) -> list[str]:
    """One instance of keepalived.data's VRRP Topology, in vrrp_data.c dump_vrrp()'s order.
    Lines about keepalived's internals we do not have (socket fds) are left out."""
    c = _settings(s)
    v6 = s.family is not Family.INET
    out = [f" VRRP Instance = {s.name}", f"   VRRP Version = {s.version}"]
    if s.sync_group:
        out.append(f"   Sync group = {s.sync_group}")
    if v6:
        out.append("   Using Native IPv6")
    out.append(f"   State = {STATE_WORDS[s.state]}")
    if s.state == State.BACKUP:
        # no master heard yet: keepalived's inet_ntop fails on the empty address -> "(null)"
        master = "(null)" if s.master_saddr is None else str(s.master_saddr)
        out += [f"   Master router = {master}", f"   Master priority = {s.master_priority}"]
        if s.version == 3:
            out.append(f"   Master advert int = {s.master_adver_int_us / 1e6:.2f} sec")
    if s.unicast_peers or c.any_flag:
        out.append("   Flags:")
        if s.unicast_peers:
            out.append("     Using unicast")
        elif c.unicast_configured:
            out.append("     Unicast config option specified but using multicast")
    else:
        out.append("   Flags: none")
    out += [f"   Wantstate = {STATE_WORDS[s.wantstate]}",
            "   Number of config faults = 0",
            f"   Number of interface and track script faults = {s.num_script_if_fault}",
            f"   Number of track scripts init = {s.num_script_init}"]
    transition = wall_us(s.last_transition, wall_offset)
    if transition is not None:
        out.append(f"   Last transition = {_stamp(transition)}")
    sands = wall_us(s.sands, wall_offset)
    out.append("   Read timeout = DISABLED" if sands is None else f"   Read timeout = {_stamp(sands)}")
    out.append(f"   Master down timer = {s.ms_down_timer_us} usecs")
    if c.vmac_ifname and not c.ipvlan:
        out.append(f"   Use VMAC, i/f name {c.vmac_ifname}, is_up = true, xmit_base = false")
    if c.vmac_addr:
        out.append("   Use VMAC for VIPs on other interfaces")
    elif c.ipvlan:
        out.append(f"   Use IPVLAN, {c.ipvlan}")
    if c.vmac_ifname:
        out.append(f"   Interface = {c.vmac_ifname}, {'ipvlan' if c.ipvlan else 'vmac'} on {s.interface}")
    else:
        out.append(f"   Interface = {s.interface}")
    if c.dont_track_primary:
        out.append("   VRRP interface tracking disabled")
    if c.skip_check_adv_addr:
        out.append("   Skip checking advert IP addresses")
    if c.strict_mode:
        out.append("   Enforcing strict VRRP compliance")
    src = "(none)" if s.source is None else str(s.source)
    out.append(f"   Using src_ip = {src}{' (from configuration)' if c.source_from_config else ''}")
    if c.mcast_dst is not None:
        out.append(f"   Multicast address {c.mcast_dst}" + (f", ifindex {c.mcast_ifindex}" if v6 else ""))
    out += [f"   Gratuitous ARP delay = {int(c.garp_delay_s)}",
            f"   Gratuitous ARP repeat = {c.garp_rep}",
            f"   Gratuitous ARP refresh = {int(c.garp_refresh_s)}",
            f"   Gratuitous ARP refresh repeat = {c.garp_refresh_rep}",
            f"   Gratuitous ARP lower priority delay = {int(c.garp_lower_prio_delay_s)}",
            f"   Gratuitous ARP lower priority repeat = {c.garp_lower_prio_rep}",
            f"   Down timer adverts = {c.down_timer_adverts}",
            "   Send advert after receive lower priority advert = "
            f"{'false' if c.lower_prio_no_advert else 'true'}",
            "   Send advert after receive higher priority advert = "
            f"{'true' if c.higher_prio_send_advert else 'false'}",
            f"   Virtual Router ID = {s.vrid}",
            f"   Priority = {s.base_priority}",
            f"   Effective priority = {s.effective_priority}",
            f"   Total priority = {s.total_priority if s.total_priority is not None else s.effective_priority}"]
    if s.version == 2:
        out.append(f"   Advert interval = {int(s.advert_int_s)} sec")
    else:
        out.append(f"   Advert interval = {round(s.advert_int_s * 1000)} milli-sec")
    if s.state == State.BACKUP and s.version == 3:
        out.append(f"   Master advert interval = {s.master_adver_int_us // 1000} milli-sec")
    out += [f"   Accept = {'enabled' if c.accept else 'disabled'}",
            f"   Preempt = {'disabled' if s.nopreempt else 'enabled'}"]
    if s.preempt_delay_s:
        out.append(f"   Preempt delay = {s.preempt_delay_s:g} secs")
    out.append(f"   Promote_secondaries = {'enabled' if c.promote_secondaries else 'disabled'}")
    if c.auth_type:
        out.append(f"   Authentication type = {'IPSEC_AH' if c.auth_type == 2 else 'SIMPLE_PASSWORD'}")
        if c.auth_type != 2:
            out.append(f"   Password = {c.auth_data}")
    elif s.version == 2:
        out.append("   Authentication type = none")
    if c.debug:
        out.append(f"   Debug level = {c.debug}")
    if c.vips:
        out.append(f"   Virtual IP ({len(c.vips)}):")
        out += [f"     {format_address(a, s.vipset)}" for a in c.vips]
    if c.evips:
        out.append("   Virtual IP Excluded :")
        out += [f"     {format_address(a, s.vipset)}" for a in c.evips]
    if s.unicast_peers:
        if c.unicast_ttl is not None and c.unicast_ttl != -1:
            out.append(f"   Unicast TTL = {c.unicast_ttl}")
        out += [f"   Check unicast src : {'yes' if c.check_unicast_src else 'no'}", "   Unicast Peer :"]
        out += [f"     {p} min_ttl 0 max_ttl 255" for p in s.unicast_peers]
        out.append(f"   Unicast checksum compatibility = {c.unicast_chksum_compat}")
    if c.vroutes:
        out.append("   Virtual Routes :")
        out += [f"     {r}" for r in c.vroutes]
    if c.vrules:
        out.append("   Virtual Rules :")
        out += [f"     {r}" for r in c.vrules]
    for kind, title, sep in (("interface", "Tracked interfaces", ""), ("script", "Tracked scripts", ""),
                             ("file", "Tracked files", ""), ("process", "Tracked processes", ","),
                             ("bfd", "Tracked BFDs", ":")):  # dump_tracked_bfd: "%s: weight"
        items = [t for t in c.tracked if t.kind == kind]
        if items:
            out.append(f"   {title} :")
            out += [f"     {t.name}{sep} weight {t.weight}{' reverse' if t.reverse else ''}" for t in items]
    out += [f"   Using smtp notification = {'yes' if c.smtp_alert else 'no'}",
            f"   Notify deleted = {'Deleted' if c.notify_deleted else 'Fault'}"]
    out += [f"   {n.word} state transition script = {n.command}, uid:gid {n.uid}:{n.gid}" for n in c.scripts]
    out.append(f"   Notify priority changes = {'true' if c.notify_priority_changes else 'false'}")
    return out


def data_text(snaps: Sequence[InstanceSnapshot], wall_offset: float) -> str:
    """The '------< VRRP Topology >------' section of keepalived.data (vrrp_data.c)."""
    lines = ["------< VRRP Topology >------"]
    for s in snaps:
        lines += instance_lines(s, wall_offset)
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
            # keepalived's vrrp->ifp: the VMAC when the instance runs on one
            "vmac_ifname": c.vmac_ifname, "ifp_ifname": c.vmac_ifname or s.interface,
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
        d.update((n.key, n.command) for n in c.scripts)
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


def scripts_text(scripts: Mapping[str, Mapping[str, Any]], snaps: Sequence[InstanceSnapshot]) -> str:
    """keepalived.data's '------< VRRP Scripts >------' (vrrp_data.c dump_vscript()), from
    the trackers' view of each vrrp_script (Trackers.snapshot()["scripts"], in config order)
    and the instances tracking it, with the weight each applies."""
    if not scripts:
        return ""
    lines = ["------< VRRP Scripts >------"]
    for name, s in scripts.items():
        reverse = " reverse" if s.get("weight_reverse") else ""
        lines += [f" VRRP Script = {name}",
                  f"   Command = {s['command']}",
                  f"   Interval = {s['interval']} sec",
                  f"   Timeout = {s['timeout']} sec",
                  f"   Weight = {s['weight']}{reverse}",
                  f"   Rise = {s['rise']}",
                  f"   Fall = {s['fall']}",
                  f"   Result = {s['result']}",
                  f"   Insecure = {s['insecure']}",
                  f"   Init state = {s['init_state']}",
                  f"   Status = {s['status']}",
                  f"   Script uid:gid = {s['uid']}:{s['gid']}",
                  "   VRRP instances :"]
        users = [(snap.name, t) for snap in snaps if snap.settings is not None
                 for t in snap.settings.tracked if t.kind == "script" and t.name == name]
        if users:
            lines.append("   Tracking instances :")
            lines += [f"     {iname}, weight {t.weight}{' reverse' if t.reverse else ''}" for iname, t in users]
        lines.append(f"   State = {s['state']}")
    return "\n".join(lines) + "\n"
