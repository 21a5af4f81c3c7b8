"""Reading and writing virtual_routes / static_routes lines (`ip route add` syntax).

The option syntax and messages follow keepalived 2.2.7's alloc_route() (vrrp_iproute.c).
Each option has one entry in `ROUTE_OPTIONS` (word -> handler) and each nexthop option one
in `NEXTHOP_OPTIONS`; a word that is none of them is the destination, optionally after
`to` or a route type. A line keepalived drops raises ValueProblem, so the entry is left
out, as keepalived leaves it out. `format()` writes a line that parses back equal.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from keepalived_py.config.model.ipline import (
    GE,
    U32_MAX,
    U64_MAX,
    Line,
    Words,
    check_family,
    inet,
    parse_prefix,
    plain_ip,
    unsigned,
)
from keepalived_py.config.model.iproute2 import (
    RTN_NAMES,
    RTPROT_KEEPALIVED,
    format_realms,
    realms,
    rt_lookup,
    rtn_type,
)
from keepalived_py.config.model.routes import PREF, PREF_NAMES, Encap, Nexthop, Route
from keepalived_py.config.numbers import WHITE_SPACE, read_decimal
from keepalived_py.config.schema import Ctx, ValueProblem, ValueType, _quote

#: rtt, rttvar and rto_min: kernel units per millisecond (keepalived's get_time_rtt unit_mult)
RTT_UNITS = {"rtt": 8, "rttvar": 4, "rto_min": 1}
RTT_MIN_MS, RTT_MAX_MS = 200, 120000


# --------------------------------------------------------------------------- value readers
def rtt_value(text: str, unit_mult: int, ctx: Ctx | None) -> int | None:
    """keepalived's get_time_rtt in kernel units (`unit_mult` per ms): N raw units, N[.ddd]s|sec|secs
    or N[...]ms|msec|msecs, read as a decimal (read_decimal_unsigned, its INVALID_NUMBER texts
    reported) and kept within 200 ms .. 120 s; None where keepalived's reader fails."""
    body = text.lstrip(WHITE_SPACE)
    number, shift, raw = body, 0, True
    unit = next((i for i, c in enumerate(body) if c in "sS"), -1)
    if unit >= 0:
        if body[unit:].lower() not in ("s", "sec", "secs"):
            return None
        raw = False
        if unit > 0 and body[unit - 1].lower() == "m":
            unit -= 1
        else:
            shift = 3
        if unit == 0:
            return None
        number = body[:unit]
    if "e" in number.lower():  # exponential form: keepalived no longer reads it
        return None
    value = read_decimal(number, 0, RTT_MAX_MS * unit_mult, shift).take(ctx)
    if value is None:
        return None
    if not raw:
        value *= unit_mult
    return min(max(value, RTT_MIN_MS * unit_mult), RTT_MAX_MS * unit_mult)


def _realms_word(words: Words, message: str) -> int:
    text = words.take()
    value = realms(text)
    if value is None:
        raise ValueProblem(message.format(text=text))
    return value


#: keepalived's message for a bad value of an ip/ip6 encap key (its own wording for each)
_ENCAP_MESSAGES = {
    ("ip", "id"): "encap id {value} value is invalid",
    ("ip", "tos"): "dsfield {value} not valid for ip encapsulation",
    ("ip", "ttl"): "ttl {value} is not valid for ip encapsulation",
    ("ip", "flags"): "flags {value} is not valid for ip encapsulation",
    ("ip6", "id"): "id {value} value invalid for IPv6 encapsulation",
    ("ip6", "tc"): "tc value tc is invalid for ip6 encapsulation",  # sic: keepalived 2.2.7 prints the key
    ("ip6", "hoplimit"): "Invalid hoplimit {value} specified for ip6 encapsulation",
    ("ip6", "flags"): "flags {value} is not valid for ip6 encapsulation",
}


def parse_encap(words: Words) -> Encap | None:
    """After the word 'encap', as keepalived's parse_encap(): a bad value is reported and ends the
    encap where it stands (its key is read again as a route option, keepalived's cursor does
    so), the route keeps what was read; an unknown type is reported and skips the next word."""
    warn = words.ctx.warn
    if not words.more():
        warn("Missing encap type", GE)
        return None
    kind = words.take()
    if kind in ("ip", "ip6"):
        return _encap_ip(words, kind)
    if kind in ("mpls", "ila"):
        if not words.more():
            warn("missing address for MPLS encapsulation" if kind == "mpls"
                 else "missing locator for ILA encapsulation", GE)
            return Encap(kind)
        val = words.take()
        if kind == "mpls":
            if not re.fullmatch(r"\d+(/\d+)*", val):
                warn(f"invalid mpls address {val} for encapsulation", GE)
                return Encap(kind)
            return Encap(kind, labels=tuple(int(x) for x in val.split("/")))
        if not re.fullmatch(r"[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){3}", val):
            warn(f"invalid locator {val} for ila encapsulation", GE)
            return Encap(kind)
        locator = 0
        for group in val.split(":"):
            locator = (locator << 16) | int(group, 16)
        return Encap(kind, locator=locator)
    warn(f"Unknown encap type - {kind}", GE)
    if words.more():
        words.take()
    return None


def _encap_ip(words: Words, kind: str) -> Encap:
    v6 = kind == "ip6"
    keys = {"id": "id", "dst": "dst", "src": "src", "flags": "flags",
            ("tc" if v6 else "tos"): "tos", ("hoplimit" if v6 else "ttl"): "ttl"}
    values: dict[str, object] = {}
    while words.i + 1 < len(words.args) and words.peek() in keys:
        key, val = words.args[words.i], words.args[words.i + 1]
        problem = None
        if key in ("dst", "src"):
            addr = plain_ip(val, words.ctx)
            if addr is None:
                problem = f"Invalid encap {kind} {key} {val}"
            elif addr.version != (6 if v6 else 4):
                problem = f"{'IPv4' if v6 else 'IPv6'} address {val} not valid for {kind} encapsulation"
            else:
                values[key] = addr
        else:
            if keys[key] == "tos":
                num = rt_lookup("rt_dsfield", val)
            else:
                hi = {"id": U64_MAX, "ttl": 255, "hoplimit": 255, "flags": 65535}[key]
                num = unsigned(val, hi, words.ctx)
            if num is None:
                problem = _ENCAP_MESSAGES[kind, key].format(value=val)
            else:
                values[keys[key]] = num
        if problem is not None:
            words.ctx.warn(problem, GE)
            return Encap(kind, **values)  # type: ignore[arg-type]
        words.i += 2
    if "dst" not in values and "id" not in values:
        words.ctx.warn(f"address or id missing for {kind} encapsulation", GE)
    return Encap(kind, **values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the line parser
class _Line(Line):
    """What one route line has settled so far."""

    def __init__(self, words: Words):
        super().__init__(words)
        self.locked: set[str] = set()
        self.nexthops: list[Nexthop] = []
        self.dest_text = ""

    def settle(self, fam: int | None) -> None:
        self.family = check_family(self.family, fam, "Cannot mix IPv4 and IPv6 addresses for route")

    def only(self, fam: int, message: str) -> None:
        """An option valid for one family only: it sets the family."""
        if self.family is not None and self.family != fam:
            raise ValueProblem(message)
        self.family = fam


Handler = Callable[[_Line, str], None]


def _src(line: _Line, word: str) -> None:
    text = line.words.take()
    addr = plain_ip(text, line.ctx)
    if addr is None:
        raise ValueProblem(f"invalid route src address {text}")
    line.settle(addr.version)
    line.values["src"] = addr


def _as(line: _Line, word: str) -> None:
    if line.words.take() == "to" and line.words.more():
        line.words.take()
    line.ctx.warn("\"as to\" for MPLS only - ignoring", GE)


def _via(line: _Line, word: str) -> None:
    if word == "gw":
        line.ctx.warn("\"gw\" for routes is deprecated. Please use \"via\"", GE)
    text = line.words.take()
    if text in ("inet", "inet6"):
        line.settle(6 if text == "inet6" else 4)
        text = line.words.take()
    addr = plain_ip(text, line.ctx)
    if addr is None:
        raise ValueProblem(f"invalid route via address {text}")
    line.settle(addr.version)
    line.values["via"] = addr


def _from(line: _Line, word: str) -> None:
    text = line.words.take()
    parsed = parse_prefix(text, line.ctx)
    if parsed is None:
        raise ValueProblem(f"invalid route from address {text}")
    if parsed[1] != 6:
        raise ValueProblem(f"route from address only supported with IPv6 ({text})")
    line.settle(6)
    line.values["from_"] = parsed[0]


def _named(name: str, table: str, message: str) -> Handler:
    """An option whose value names an iproute2 table entry (table, protocol, scope, tos)."""
    def handler(line: _Line, word: str) -> None:
        line.values[name] = line.words.named(table, message)
    return handler


def _number(name: str, hi: int, message: str, lockable: bool = False) -> Handler:
    """An unsigned option up to `hi`; `lockable`: may be preceded by 'lock'."""
    def handler(line: _Line, word: str) -> None:
        if lockable:
            _lock(line, name)
        line.values[name] = line.words.number(hi, message)
    return handler


def _lock(line: _Line, name: str) -> None:
    if line.words.more() and line.words.peek() == "lock":
        line.words.take()
        line.locked.add(name)


def _rtt(name: str, message: str) -> Handler:
    def handler(line: _Line, word: str) -> None:
        _lock(line, name)
        text = line.words.take()
        value = rtt_value(text, RTT_UNITS[name], line.ctx)
        if value is None:
            raise ValueProblem(message.format(text=text))
        line.values[name] = value
    return handler


def _flag(name: str, value: object = True) -> Handler:
    def handler(line: _Line, word: str) -> None:
        line.values[name] = value if value is not None else word
    return handler


def _dev(line: _Line, word: str) -> None:
    line.values["dev"] = line.words.take()


def _encap(line: _Line, word: str) -> None:
    encap = parse_encap(line.words)
    if encap is not None:
        line.values["encap"] = encap


def _expires(line: _Line, word: str) -> None:
    line.only(6, "expires is only valid for IPv6")
    line.values["expires"] = line.words.number(U32_MAX, "Invalid expires time %s specified for route")


def _realms(line: _Line, word: str) -> None:
    value = _realms_word(line.words, "Invalid realms {text} for route")
    line.only(4, "realms are only valid for IPv4")
    line.values["realms"] = value


def _congctl(line: _Line, word: str) -> None:
    _lock(line, "congctl")
    line.values["congctl"] = line.words.take()


def _features(line: _Line, word: str) -> None:
    text = line.words.take()
    if text == "ecn":
        line.values["features_ecn"] = True
    else:
        line.ctx.warn(f"feature {text} not supported", GE)


def _pref(line: _Line, word: str) -> None:
    text = line.words.take()
    line.only(6, "pref is only valid for IPv6")
    value = PREF[text] if text in PREF else unsigned(text, 255, line.ctx)
    if value is None:
        raise ValueProblem(f"Invalid pref value {text} specified for route")
    line.values["pref"] = value


def _ttl_propagate(line: _Line, word: str) -> None:
    text = line.words.take()
    if text not in ("enabled", "disabled"):
        # keepalived reports it and still sends the attribute, as 0 (disabled)
        line.ctx.warn(f"ttl-propagate value {text} not recognised", GE)
    line.values["ttl_propagate"] = text == "enabled"


def _or(line: _Line, word: str) -> None:
    line.ctx.warn("\"or\" for routes is deprecated. Please use \"nexthop\"", GE)
    text = line.words.take()
    if line.nexthops:
        line.ctx.warn("\"or\" route already specified - ignoring subsequent", GE)
        return
    addr = plain_ip(text, line.ctx)
    if addr is None:
        raise ValueProblem(f"Invalid \"or\" address {text}")
    line.nexthops = [Nexthop(via=line.values.pop("via", None)), Nexthop(via=addr)]  # type: ignore[arg-type]


def _nexthop(line: _Line, word: str) -> None:
    words = line.words
    line.done = True
    if line.nexthops:
        line.ctx.warn("Cannot specify nexthops with \"or\" route", GE)
        if words.more():  # keepalived stops reading the line here
            raise ValueProblem(f"Route has trailing nonsense - {words.args[words.i - 1]}")
        return
    words.i -= 1
    while words.more() and words.peek() == "nexthop":
        words.take()
        hop: dict[str, object] = {}
        while words.more() and words.peek() in NEXTHOP_OPTIONS:
            NEXTHOP_OPTIONS[words.take()](line, hop)
        line.nexthops.append(Nexthop(**hop))  # type: ignore[arg-type]
    if words.more():
        raise ValueProblem(f"Route has trailing nonsense after nexthops - {words.peek()}")


def _vrf(line: _Line, word: str) -> None:
    line.values["vrf"] = line.words.take()


def _destination(line: _Line, word: str) -> None:
    """Any other word: `[to] [TYPE] PREFIX`."""
    if word == "to":
        word = line.words.take()
    elif rtn_type(word) is not None:
        line.values["type"] = rtn_type(word)
        word = line.words.take()
    parsed = parse_prefix(word, line.ctx)
    if parsed is None:
        raise ValueProblem(f"unknown route keyword {word}")
    dst, fam = parsed
    if fam is not None and line.family is not None and fam != line.family:
        raise ValueProblem(f"Cannot mix IPv4 and IPv6 addresses for route ({word})")
    if fam is not None and word == "default6":
        line.explicit = 6
    line.family = fam if fam is not None else line.family
    line.values["dst"] = dst
    line.dest_text = word


#: every route option keepalived 2.2.7 knows, by its word
ROUTE_OPTIONS: dict[str, Handler] = {
    "inet": inet("route"), "inet6": inet("route"),
    "src": _src,
    "as": _as,
    "via": _via, "gw": _via,
    "from": _from,
    "tos": _named("tos", "rt_dsfield", "TOS value {text} is invalid"),
    "dsfield": _named("tos", "rt_dsfield", "TOS value {text} is invalid"),
    "table": _named("table", "rt_tables", "Routing table {text} not found for route"),
    "protocol": _named("protocol", "rt_protos", "Protocol {text} not found or invalid for route"),
    "scope": _named("scope", "rt_scopes", "Scope {text} not found or invalid for route"),
    "metric": _number("metric", U32_MAX, "Invalid metric %s specified for route"),
    "priority": _number("metric", U32_MAX, "Invalid metric %s specified for route"),
    "preference": _number("metric", U32_MAX, "Invalid metric %s specified for route"),
    "dev": _dev, "oif": _dev,
    "onlink": _flag("onlink"),
    "encap": _encap,
    "expires": _expires,
    "mtu": _number("mtu", U32_MAX, "Invalid MTU %s specified for route", lockable=True),
    "hoplimit": _number("hoplimit", 255, "Invalid hoplimit %s specified for route"),
    "advmss": _number("advmss", U32_MAX, "Invalid advmss %s specified for route", lockable=True),
    "rtt": _rtt("rtt", "Invalid rtt {text} for route"),
    "rttvar": _rtt("rttvar", "Invalid rttvar {text} for route"),
    "reordering": _number("reordering", U32_MAX, "Invalid reordering value %s specified for route",
                          lockable=True),
    "window": _number("window", U32_MAX, "Invalid window value %s specified for route"),
    "cwnd": _number("cwnd", U32_MAX, "Invalid cwnd value %s specified for route", lockable=True),
    "ssthresh": _number("ssthresh", U32_MAX, "Invalid ssthresh value %s specified for route", lockable=True),
    "realms": _realms,
    "rto_min": _rtt("rto_min", "Invalid rto_min value {text} specified for route"),
    "initcwnd": _number("initcwnd", U32_MAX, "Invalid initcwnd value %s specified for route"),
    "initrwnd": _number("initrwnd", U32_MAX, "Invalid initrwnd value %s specified for route"),
    "features": _features,
    "quickack": _number("quickack", 1, "Invalid quickack value %s specified for route"),
    "congctl": _congctl,
    "pref": _pref,
    "ttl-propagate": _ttl_propagate,
    "fastopen_no_cookie": _number("fastopen_no_cookie", 1,
                                  "Invalid fastopen_no_cookie value %s specified for route"),
    "add": _flag("mode", None), "prepend": _flag("mode", None), "append": _flag("mode", None),
    "or": _or,
    "nexthop": _nexthop,
    "no_track": _flag("no_track"),
    "vrf": _vrf,
}


# --------------------------------------------------------------------------- nexthops
NexthopHandler = Callable[[_Line, dict], None]


def _nh_via(line: _Line, hop: dict) -> None:
    words = line.words
    text = words.take()
    if text in ("inet", "inet6"):
        fam = 6 if text == "inet6" else 4
        text = words.take()
        if line.family is not None and line.family != fam:
            raise ValueProblem("IPv4/6 mismatch for nexthop")
        line.family = fam
    addr = plain_ip(text, line.ctx)
    if addr is None:
        raise ValueProblem(f"invalid nexthop address {text}")
    if line.family is not None and addr.version != line.family:
        raise ValueProblem("Address family mismatch for next hop")
    line.family = addr.version
    hop["via"] = addr


def _nh_dev(line: _Line, hop: dict) -> None:
    hop["dev"] = line.words.take()


def _nh_weight(line: _Line, hop: dict) -> None:
    value = line.words.number(256, "Invalid weight %s specified for route")
    if value == 0:
        raise ValueProblem("Invalid weight 0 specified for route")
    hop["weight"] = value


def _nh_onlink(line: _Line, hop: dict) -> None:
    hop["onlink"] = True


def _nh_encap(line: _Line, hop: dict) -> None:
    encap = parse_encap(line.words)
    if encap is not None:
        hop["encap"] = encap


def _nh_realms(line: _Line, hop: dict) -> None:
    value = _realms_word(line.words, "Invalid realms {text} for route")
    line.only(4, "realms are only supported for IPv4")
    hop["realms"] = value


def _nh_as(line: _Line, hop: dict) -> None:
    raise ValueProblem("'as [to]' (nat) not supported")


#: the options of one `nexthop`, by word
NEXTHOP_OPTIONS: dict[str, NexthopHandler] = {
    "via": _nh_via, "dev": _nh_dev, "weight": _nh_weight, "onlink": _nh_onlink,
    "encap": _nh_encap, "realms": _nh_realms, "as": _nh_as,
}


class RouteEntry(ValueType):
    """One route line; `static=True` for static_routes (accepts track_group)."""

    max_args = None

    def __init__(self, static: bool = False):
        self.static = static

    def parse(self, args, ctx: Ctx) -> Route:
        line = _Line(Words(args, ctx))
        line.read(ROUTE_OPTIONS, _destination, self.static)
        if "dst" not in line.values:
            raise ValueProblem("Route must have a destination")
        route = Route(family=line.explicit, locked=frozenset(line.locked), nexthops=tuple(line.nexthops),
                      pos=ctx.pos, **line.values)  # type: ignore[arg-type]
        if not route.no_track:
            if route.protocol is not None and route.protocol != RTPROT_KEEPALIVED:
                ctx.warn(f"Route cannot be tracked if protocol is not RTPROT_KEEPALIVED({RTPROT_KEEPALIVED}), "
                         "resetting protocol", GE)
            if route.dev is None:
                ctx.warn(f"Warning - cannot track route {line.dest_text} with no interface specified, "
                         "not tracking", GE)
        if route.track_group is not None and route.dev is None:
            ctx.warn("Static route cannot have track group if no oif specified", GE)
        return route

    def format(self, value: Route) -> list[str]:
        out: list[str] = []
        if value.type is not None:
            out.append(RTN_NAMES.get(value.type, str(value.type)))
        out.append(value.dst)
        if value.src is not None:
            out += ["src", str(value.src)]
        if value.from_ is not None:
            out += ["from", value.from_]
        if value.via is not None:
            out += ["via", str(value.via)]
        if value.dev is not None:
            out += ["dev", _quote(value.dev)]
        for name in ("tos", "table", "protocol", "scope", "metric"):
            item = getattr(value, name)
            if item is not None:
                out += [name, str(item)]
        if value.onlink:
            out.append("onlink")
        if value.encap is not None:
            out += value.encap.words()
        if value.expires is not None:
            out += ["expires", str(value.expires)]
        for name in ("mtu", "hoplimit", "advmss", "rtt", "rttvar", "reordering", "window", "cwnd", "ssthresh",
                     "realms", "rto_min", "initcwnd", "initrwnd"):
            item = getattr(value, name)
            if item is not None:
                out.append(name)
                if name in value.locked:
                    out.append("lock")
                out.append(format_realms(item) if name == "realms" else str(item))
        if value.features_ecn:
            out += ["features", "ecn"]
        if value.quickack is not None:
            out += ["quickack", str(value.quickack)]
        if value.congctl is not None:
            out += ["congctl", *(["lock"] if "congctl" in value.locked else []), _quote(value.congctl)]
        if value.pref is not None:
            out += ["pref", PREF_NAMES.get(value.pref, str(value.pref))]
        if value.ttl_propagate is not None:
            out += ["ttl-propagate", "enabled" if value.ttl_propagate else "disabled"]
        if value.fastopen_no_cookie is not None:
            out += ["fastopen_no_cookie", str(value.fastopen_no_cookie)]
        if value.mode is not None:
            out.append(value.mode)
        if value.no_track:
            out.append("no_track")
        if value.track_group is not None:
            out += ["track_group", _quote(value.track_group)]
        if value.vrf is not None:
            out += ["vrf", _quote(value.vrf)]
        if value.family is not None:
            # keepalived steps over the word after inet/inet6: last on the line, or doubled
            fam = "inet6" if value.family == 6 else "inet"
            out += [fam, fam] if value.nexthops else [fam]
        for hop in value.nexthops:
            out += hop.words()
        return out


class StaticRouteEntry(RouteEntry):
    """static_routes line (accepts track_group)."""

    def __init__(self) -> None:
        super().__init__(static=True)
