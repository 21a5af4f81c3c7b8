"""Virtual routes and rules as keepalived 2.2.7's format_iproute() / format_iprule() print
them in keepalived.json ("vroutes", "vrules") and keepalived.data.

Those are not the config's words: a route starts with its mode ("prepend" by default),
a gateway reads "via inet 192.0.2.254", tracked routes show "proto 18"; a rule always
shows "from all" or its source, its priority, "tos 0x0", "protocol 18" when tracked and
its action as "lookup N". The common options are covered here, in keepalived's order; the
rarely used route metrics (mtu, rtt, ...) and nexthops are left out of the line. Pure.
"""

from __future__ import annotations

from typing import Any

from keepalived_py.config.model.iproute2 import RTN_NAMES
from keepalived_py.config.model.rules import FR_ACT_GOTO, FR_ACT_NOP

RT_TABLE_MAIN = 254
RTN_UNICAST = 1
_ACTION_NAMES = {6: "blackhole", 7: "unreachable", 8: "prohibit"}


def _addr(text: Any) -> str:
    """ipaddresstos(): no /32 or /128."""
    value = str(text)
    for host in ("/32", "/128"):
        if value.endswith(host):
            return value[: -len(host)]
    return value


def format_route(r: Any) -> str:
    words = [r.mode or "prepend"]
    if r.type is not None and r.type != RTN_UNICAST:
        words.append(RTN_NAMES.get(r.type, str(r.type)))
    out = " ".join(words) + " "
    out += "default" if r.dst in ("default", "any", "all") else _addr(r.dst)
    if r.from_:
        out += f" from {_addr(r.from_)}"
    if r.src is not None:
        out += f" src {r.src}"
    if r.tos is not None:
        out += f" tos {r.tos}"
    if r.via is not None:
        out += f" via {'inet6' if r.via.version == 6 else 'inet'} {r.via}"
    if r.dev:
        out += f" dev {r.dev}"
    if r.table is not None and r.table != RT_TABLE_MAIN:
        out += f" table {r.table}"
    if not r.no_track or r.protocol is not None:
        out += f" proto {r.kernel_protocol}"
    if r.scope is not None:
        out += f" scope {r.scope}"
    if r.metric is not None:
        out += f" metric {r.metric}"
    if r.onlink and r.ip_family == 4:
        out += " onlink"
    if r.realms:
        out += (f" realms {r.realms >> 16}/" if r.realms & 0xFFFF0000 else " realm ") + str(r.realms & 0xFFFF)
    if r.no_track:
        out += " no_track"
    if r.track_group:
        out += f" track_group {r.track_group}"
    return out


def format_rule(r: Any) -> str:
    out = ""
    if not r.from_ and not r.to and r.ip_family == 6:
        out += "inet6 "
    if r.invert:
        out += "not "
    out += f"from {_addr(r.from_)}" if r.from_ else "from all"
    if r.to:
        out += f" to {_addr(r.to)}"
    if r.preference is not None:
        out += f" priority {r.preference}"
    out += f" tos 0x{(r.tos or 0):x}"
    if r.fwmark is not None or r.fwmask is not None:
        out += f" fwmark 0x{(r.fwmark or 0):x}"
        if r.fwmask is not None and r.fwmask != 0xFFFFFFFF:
            out += f"/0x{r.fwmask:x}"
    if r.iif:
        out += f" iif {r.iif}"
    if r.oif:
        out += f" oif {r.oif}"
    if r.suppress_prefixlength is not None:
        out += f" suppress_prefixlen {r.suppress_prefixlength}"
    if r.suppress_ifgroup is not None:
        out += f" suppress_ifgroup {r.suppress_ifgroup}"
    if r.tunnel_id:
        out += f" tunnel-id {r.tunnel_id}"
    if r.uidrange is not None:
        out += f" uidrange {r.uidrange[0]}-{r.uidrange[1]}"
    if r.l3mdev:
        out += " l3mdev"
    protocol = r.kernel_protocol
    if protocol is not None:
        out += f" protocol {protocol}"
    if r.ipproto is not None:
        out += f" ipproto {r.ipproto}"
    if r.sport is not None:
        out += f" sport {r.sport[0]}-{r.sport[1]}"
    if r.dport is not None:
        out += f" dport {r.dport[0]}-{r.dport[1]}"
    if r.realms:
        out += f" realms {r.realms >> 16}/{r.realms & 0xFFFF}"
    if r.action is None:
        out += f" lookup {r.table or 0}"
    elif r.action == FR_ACT_GOTO:
        out += f" goto {r.goto}"
    elif r.action == FR_ACT_NOP:
        out += " nop"
    else:
        out += f" type {_ACTION_NAMES.get(r.action, str(r.action))}"
    if r.no_track:
        out += " no_track"
    if r.track_group:
        out += f" track_group {r.track_group}"
    return out
