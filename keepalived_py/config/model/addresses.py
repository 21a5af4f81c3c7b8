"""Address, route and rule entries of static_* blocks and vrrp_instance blocks.

One line of virtual_ipaddress / static_ipaddress, virtual_routes / static_routes or
virtual_rules / static_rules becomes a small frozen dataclass. The option syntax and the
messages follow keepalived 2.2.7 (vrrp_ipaddress.c, vrrp_iproute.c, vrrp_iprule.c), which
follows `ip address/route/rule add` without abbreviations. An option that keepalived
ignores with a message draws the same message here (GENERAL_ERROR); a line keepalived drops
raises ValueProblem, so the entry is left out, as keepalived leaves it out.

Values are normalised so that `format()` writes a canonical line that parses back equal;
names from /etc/iproute2 (tables, protocols, scopes, realms, dsfields, groups) are kept as
written, after checking that keepalived would resolve them.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.schema import Ctx, ValueProblem, ValueType, _quote
from keepalived_py.errors import SourcePos

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: preferred_lft forever (INFINITY_LIFE_TIME)
FOREVER = 0xFFFFFFFF
#: the protocol keepalived puts on routes/rules it tracks
RTPROT_KEEPALIVED = 18
U32_MAX = 0xFFFFFFFF
IFNAMSIZ = 16
#: the interface of static addresses without 'dev' when global_defs has no default_interface
DEFAULT_INTERFACE = "eth0"

GE = ConfigErr.GENERAL_ERROR


# --------------------------------------------------------------------------- iproute2 names
IPROUTE2_DIR = "/etc/iproute2/"

_RTNTYPES = ("local", "nat", "broadcast", "brd", "anycast", "multicast", "prohibit", "unreachable",
             "blackhole", "xresolve", "unicast", "throw")
_RTNTYPE_IDS = {"unspec": 0, "unicast": 1, "local": 2, "broadcast": 3, "brd": 3, "anycast": 4, "multicast": 5,
                "blackhole": 6, "unreachable": 7, "prohibit": 8, "throw": 9, "nat": 10, "xresolve": 11}

_DEFAULT_NAMES: dict[str, dict[str, int]] = {
    "rt_tables": {"default": 253, "main": 254, "local": 255},
    "rt_scopes": {"global": 0, "nowhere": 255, "host": 254, "link": 253, "site": 200},
    "rt_protos": {"none": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9,
                  "mrt": 10, "zebra": 11, "bird": 12, "babel": 42, "dnrouted": 13, "xorp": 14, "ntk": 15,
                  "dhcp": 16},
    "rt_dsfield": {},
    "rt_realms": {},
    "group": {},
}
_MAXIMA = {"rt_tables": U32_MAX, "rt_scopes": 255, "rt_protos": 255, "rt_dsfield": 255, "rt_realms": 255,
           "group": 0x7FFFFFFF}
_name_cache: dict[str, dict[str, int]] = {}


def _strtoul(text: str, base: int = 0) -> int | None:
    """C strtoul on the whole word (base 0: 0x.. hex, 0.. octal), None if not all digits."""
    body = text.strip(" \t")
    if not body or body[0] == "-":
        return None
    if body[0] == "+":
        body = body[1:]
    try:
        if base == 0:
            if body[:2].lower() == "0x":
                return int(body[2:], 16) if body[2:] else None
            if len(body) > 1 and body[0] == "0":
                return int(body[1:], 8)
            return int(body, 10)
        return int(body, base)
    except ValueError:
        return None


def _names(kind: str) -> dict[str, int]:
    cached = _name_cache.get(kind)
    if cached is not None:
        return cached
    names: dict[str, int] = {}
    try:
        with open(IPROUTE2_DIR + kind, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                words = line.split("#", 1)[0].split()
                if len(words) != 2:
                    continue
                num = _strtoul(words[0])
                if num is None or num > _MAXIMA[kind]:
                    continue
                names.setdefault(words[1], num)
    except OSError:
        pass
    ids = set(names.values())
    for name, num in _DEFAULT_NAMES[kind].items():
        if num not in ids:
            names.setdefault(name, num)
    _name_cache[kind] = names
    return names


def rt_lookup(kind: str, name: str) -> int | None:
    """keepalived's find_rttables_*: a number (C base 0) up to the kind's maximum, or a known name."""
    num = _strtoul(name)
    if num is not None:
        # C: strtoul saturates at ULONG_MAX, then keepalived keeps the low 32 bits before the range check
        num = min(num, 2**64 - 1) & 0xFFFFFFFF
        return num if num <= _MAXIMA[kind] else None
    return _names(kind).get(name)


def _realms_ok(text: str) -> bool:
    parts = text.split("/", 1)
    return all(rt_lookup("rt_realms", p) is not None for p in parts)


def _unsigned(text: str, hi: int, base: int = 10) -> int | None:
    value = _strtoul(text, base)
    if value is None or value > hi:
        return None
    return value


_RTT_RE = re.compile(r"^([0-9]+)(?:\.([0-9]*))?(m?)(s|sec|secs)?$", re.IGNORECASE)
RTT_MAX_MS = 120000


def _rtt_ok(text: str, unit_mult: int) -> bool:
    """keepalived's get_time_rtt: N (raw units), N[.ddd]s|sec|secs (seconds) or Nms|msec|msecs."""
    m = _RTT_RE.match(text.strip())
    if not m:
        return False
    whole, frac, milli, unit = m.groups()
    if milli and not unit:
        return False
    decimals = 3 if unit and not milli else 0
    if frac is not None and len(frac) > decimals:
        return False
    value = int(whole) * 10**decimals + int((frac or "").ljust(decimals, "0") or 0)
    return value <= RTT_MAX_MS * unit_mult


# --------------------------------------------------------------------------- ip parsing
def parse_ip(text: str, allow_prefix: bool, ctx: Ctx | None) -> IPInterface:
    """keepalived's parse_ipaddress: family from ':', prefix optional (bad prefix -> host length)."""
    v6 = ":" in text
    maxlen = 128 if v6 else 32
    addr_text, prefix = text, maxlen
    if allow_prefix and "/" in text:
        addr_text, plen = text.split("/", 1)
        value = _unsigned(plen, maxlen)
        if value is None:
            if ctx is not None:
                ctx.warn(f"Invalid address prefix len {plen} for address {text} - using {maxlen}", GE)
        else:
            prefix = value
    try:
        addr = ipaddress.IPv6Address(addr_text) if v6 else ipaddress.IPv4Address(addr_text)
    except ValueError:
        raise ValueProblem(f"VRRP parsed invalid IP {text}. skipping IP...") from None
    return ipaddress.ip_interface((addr, prefix))


def _plain_ip(text: str) -> IPAddress | None:
    try:
        return parse_ip(text, False, None).ip
    except ValueProblem:
        return None


_SPECIAL_DST = ("default", "any", "all")


def parse_prefix(text: str) -> tuple[str, int | None] | None:
    """keepalived's parse_route: 'default'/'any'/'all' (any family) or ADDR[/LEN]; (canonical, family)."""
    if text in _SPECIAL_DST:
        return text, None
    if text == "default6":
        return "default", 6
    try:
        iface = parse_ip(text, True, None)
    except ValueProblem:
        return None
    if "/" in text and _unsigned(text.split("/", 1)[1], iface.max_prefixlen) is None:
        return None
    return iface.with_prefixlen, iface.version


def _family_of(prefix: str | None) -> int | None:
    if prefix is None or prefix in _SPECIAL_DST:
        return None
    return 6 if ":" in prefix else 4


# --------------------------------------------------------------------------- addresses
@dataclass(frozen=True, slots=True)
class VirtualAddress:
    """One line of virtual_ipaddress / static_ipaddress.

    `ADDR[/LEN] [brd ADDR|+|-] [dev IF] [scope SCOPE] [label LABEL] [peer ADDR[/LEN]] [home]
    [-nodad] [mngtmpaddr] [noprefixroute] [autojoin] [no_track] [preferred_lft N|forever]`
    plus `track_group GROUP` (static_ipaddress) or `use_vmac` (virtual_ipaddress).
    With a peer, the prefix length is the peer's (as keepalived sets it).
    """

    address: IPInterface
    dev: str | None = None
    brd: str | None = None  # '+', '-' or an IPv4 address
    scope: str | None = None  # name from rt_scopes or a number, as written
    label: str | None = None
    peer: IPInterface | None = None
    home: bool = False
    nodad: bool = False
    mngtmpaddr: bool = False
    noprefixroute: bool = False
    autojoin: bool = False
    no_track: bool = False
    preferred_lft: int | None = None  # FOREVER for 'forever'
    track_group: str | None = None
    use_vmac: bool = False
    pos: SourcePos | None = field(default=None, compare=False)

    @property
    def family(self) -> int:
        return self.address.version

    @property
    def broadcast(self) -> ipaddress.IPv4Address | None:
        """The broadcast address keepalived configures ('+'/'-' set/clear the host bits)."""
        if self.brd is None or self.family != 4 or self.peer is not None:
            return None
        if self.brd in ("+", "-"):
            if self.address.network.prefixlen > 30:
                return None
            base = self.address
            return base.network.broadcast_address if self.brd == "+" else base.network.network_address
        return ipaddress.IPv4Address(self.brd)

    @property
    def effective_preferred_lft(self) -> int | None:
        """IPv6 addresses without preferred_lft get keepalived's old defaults (0 for /128)."""
        if self.preferred_lft is not None or self.family == 4:
            return self.preferred_lft
        return 0 if self.address.network.prefixlen == 128 else FOREVER


_ADDR_FLAGS = ("home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track")
_ADDR_FLAG_FIELD = {"home": "home", "-nodad": "nodad", "mngtmpaddr": "mngtmpaddr",
                    "noprefixroute": "noprefixroute", "autojoin": "autojoin", "no_track": "no_track"}


class VirtualAddressEntry(ValueType):
    """One address line; `static=True` for static_ipaddress (track_group, no use_vmac)."""

    max_args = None

    def __init__(self, static: bool = False):
        self.static = static

    def parse(self, args, ctx: Ctx) -> VirtualAddress:
        first = args[0]
        address = parse_ip(first, True, ctx)
        values: dict[str, object] = {}
        peer: IPInterface | None = None
        brd_set = False
        i = 1
        n = len(args)
        while i < n:
            word = args[i]
            has_param = i + 1 < n
            if word in ("dev", "scope", "broadcast", "brd", "label", "peer", "preferred_lft") or (
                    word == "track_group" and self.static):
                if not has_param:
                    raise ValueProblem(f"No {word} parameter specified for {first}")
                param = args[i + 1]
                i += 2
                if word == "dev":
                    if "dev" in values:
                        raise ValueProblem(f"Cannot specify ipaddress device more than once for {first}")
                    values["dev"] = param
                elif word == "scope":
                    if rt_lookup("rt_scopes", param) is None:
                        ctx.warn(f"Invalid scope '{param}' specified for {first} - ignoring", GE)
                    else:
                        values["scope"] = param
                elif word in ("broadcast", "brd"):
                    if address.version == 6:
                        raise ValueProblem(f"VRRP is trying to assign a broadcast {word} to the IPv6 address "
                                           f"{first} !!?? WTF... skipping VIP...")
                    if param not in ("+", "-"):
                        try:
                            param = str(ipaddress.IPv4Address(param))
                        except ValueError:
                            raise ValueProblem(f"VRRP is trying to assign invalid broadcast {param}. "
                                               "skipping VIP...") from None
                    values["brd"] = param
                    brd_set = True
                elif word == "label":
                    if len(param) >= IFNAMSIZ:
                        raise ValueProblem(f"Address label {param} is longer than maximum length "
                                           f"{IFNAMSIZ - 1} - removing address")
                    values["label"] = param
                elif word == "peer":
                    if peer is not None:
                        ctx.warn(f"Peer {param} - another peer has already been specified", GE)
                        continue
                    try:
                        candidate = parse_ip(param, False, None)
                    except ValueProblem:
                        ctx.warn(f"Invalid peer address {param}", GE)
                        continue
                    if candidate.version != address.version:
                        ctx.warn(f"Peer address {param} does not match address family", GE)
                        continue
                    if address.network.prefixlen != address.max_prefixlen:
                        ctx.warn("Cannot specify address prefix when specifying peer address - ignoring", GE)
                    peer = candidate
                elif word == "preferred_lft":
                    if param == "forever":
                        values["preferred_lft"] = FOREVER
                    else:
                        value = _unsigned(param, U32_MAX)
                        if value is None:
                            ctx.warn(f"preferred_lft {param} is invalid", GE)
                        else:
                            values["preferred_lft"] = value
                else:  # track_group
                    if "track_group" in values:
                        ctx.warn(f"track_group {param} is a duplicate", GE)
                        break
                    values["track_group"] = param
                continue
            if word in _ADDR_FLAG_FIELD:
                values[_ADDR_FLAG_FIELD[word]] = True
            elif word == "use_vmac" and not self.static:
                values["use_vmac"] = True
            else:
                ctx.warn(f"Unknown configuration entry '{word}' for ip address - ignoring", GE)
            i += 1
        if peer is not None:
            # keepalived: the address takes the peer's prefix length (the peer here has none)
            address = ipaddress.ip_interface((address.ip, peer.network.prefixlen))
            if brd_set:
                ctx.warn("Cannot specify broadcast and peer addresses - ignoring broadcast address", GE)
                values.pop("brd", None)
        elif values.get("brd") in ("+", "-") and address.network.prefixlen > 30:
            ctx.warn(f"Address prefix length {address.network.prefixlen} too long for broadcast", GE)
        if address.version == 6:
            if "scope" in values:
                ctx.warn(f"Cannot specify scope for IPv6 addresses ({first}) - ignoring scope", GE)
                del values["scope"]
            if "label" in values:
                ctx.warn(f"Cannot specify label for IPv6 addresses ({first}) - ignoring label", GE)
                del values["label"]
        return VirtualAddress(address, peer=peer, pos=ctx.pos, **values)  # type: ignore[arg-type]

    def format(self, value: VirtualAddress) -> list[str]:
        if value.peer is not None:
            words = [str(value.address.ip), "peer", str(value.peer.ip)]
        else:
            words = [value.address.with_prefixlen]
        if value.brd is not None:
            words += ["brd", value.brd]
        if value.dev is not None:
            words += ["dev", _quote(value.dev)]
        if value.scope is not None:
            words += ["scope", value.scope]
        if value.label is not None:
            words += ["label", _quote(value.label)]
        for word, fname in _ADDR_FLAG_FIELD.items():
            if getattr(value, fname):
                words.append(word)
        if value.preferred_lft is not None:
            words += ["preferred_lft", "forever" if value.preferred_lft == FOREVER else str(value.preferred_lft)]
        if value.track_group is not None:
            words += ["track_group", _quote(value.track_group)]
        if value.use_vmac:
            words.append("use_vmac")
        return words


class StaticAddressEntry(VirtualAddressEntry):
    """static_ipaddress line (accepts track_group, not use_vmac)."""

    def __init__(self) -> None:
        super().__init__(static=True)


# --------------------------------------------------------------------------- routes
@dataclass(frozen=True, slots=True)
class Encap:
    """`encap TYPE ...` of a route or nexthop: mpls LABELS | ip/ip6 KEY VALUE ... | ila LOCATOR."""

    type: str
    params: tuple[tuple[str, str], ...] = ()  # (key, value) pairs for ip/ip6; (("label", X),) otherwise

    def words(self) -> list[str]:
        out = ["encap", self.type]
        if self.type in ("ip", "ip6"):
            for key, val in self.params:
                out += [key, val]
        else:
            out += [val for _key, val in self.params]
        return out


@dataclass(frozen=True, slots=True)
class Nexthop:
    """`nexthop [via [inet|inet6] ADDR] [dev IF] [weight 1..256] [onlink] [encap ...] [realms R]`."""

    via: IPAddress | None = None
    dev: str | None = None
    weight: int | None = None
    onlink: bool = False
    encap: Encap | None = None
    realms: str | None = None

    def words(self) -> list[str]:
        out = ["nexthop"]
        if self.via is not None:
            out += ["via", str(self.via)]
        if self.dev is not None:
            out += ["dev", _quote(self.dev)]
        if self.weight is not None:
            out += ["weight", str(self.weight)]
        if self.onlink:
            out.append("onlink")
        if self.encap is not None:
            out += self.encap.words()
        if self.realms is not None:
            out += ["realms", self.realms]
        return out


#: route metrics that may be preceded by 'lock', in keepalived's order
_LOCKABLE = ("mtu", "advmss", "rtt", "rttvar", "reordering", "cwnd", "ssthresh", "rto_min", "congctl")


@dataclass(frozen=True, slots=True)
class Route:
    """One line of virtual_routes / static_routes (`ip route add` syntax)."""

    dst: str  # ADDR/LEN canonical, or default/any/all
    type: str | None = None  # unicast (default), blackhole, unreachable, prohibit, local, throw ...
    family: int | None = None  # given by 'inet'/'inet6' (or implied by default6)
    src: IPAddress | None = None
    from_: str | None = None  # IPv6 source prefix ('from')
    via: IPAddress | None = None
    dev: str | None = None
    tos: str | None = None
    table: str | None = None
    protocol: str | None = None
    scope: str | None = None
    metric: int | None = None
    onlink: bool = False
    encap: Encap | None = None
    expires: int | None = None
    mtu: int | None = None
    hoplimit: int | None = None
    advmss: int | None = None
    rtt: str | None = None
    rttvar: str | None = None
    reordering: int | None = None
    window: int | None = None
    cwnd: int | None = None
    ssthresh: int | None = None
    realms: str | None = None
    rto_min: str | None = None
    initcwnd: int | None = None
    initrwnd: int | None = None
    features_ecn: bool = False
    quickack: int | None = None
    congctl: str | None = None
    pref: str | None = None  # low|medium|high|NUMBER
    ttl_propagate: bool | None = None
    fastopen_no_cookie: int | None = None
    locked: frozenset[str] = frozenset()  # metrics given with 'lock'
    mode: str | None = None  # add | append | prepend (None: keepalived's default, prepend)
    nexthops: tuple[Nexthop, ...] = ()
    no_track: bool = False
    track_group: str | None = None
    vrf: str | None = None
    pos: SourcePos | None = field(default=None, compare=False)

    @property
    def ip_family(self) -> int:
        """4 or 6, as keepalived settles it (IPv4 when nothing says otherwise)."""
        for fam in (self.family, _family_of(self.dst), _family_of(self.from_)):
            if fam:
                return fam
        for addr in (self.src, self.via, *(nh.via for nh in self.nexthops)):
            if addr is not None:
                return addr.version
        return 4

    def interfaces(self) -> tuple[str, ...]:
        names = [self.dev] if self.dev else []
        names += [nh.dev for nh in self.nexthops if nh.dev]
        return tuple(names)


class _Words:
    """A cursor over a line's words with keepalived's 'missing parameter' rule."""

    def __init__(self, args, ctx: Ctx):
        self.args = list(args)
        self.i = 0
        self.ctx = ctx

    def more(self) -> bool:
        return self.i < len(self.args)

    def peek(self) -> str:
        return self.args[self.i]

    def take(self) -> str:
        if self.i >= len(self.args):
            # keepalived's strvec_slot() on a missing word: it stops reading the configuration
            raise ValueProblem(f"*** Configuration line starting `{self.args[0]}` is missing a parameter "
                               f"after keyword `{self.args[-1]}` at word position {self.i + 1}",
                               ConfigErr.MISSING_PARAMETER)
        word = self.args[self.i]
        self.i += 1
        return word


def _take_known(words: _Words, table: str, message: str) -> str:
    """The next word, which must name an entry of an iproute2 table (rt_tables, rt_protos ...);
    else keepalived's `message` ({text}: the word)."""
    text = words.take()
    if rt_lookup(table, text) is None:
        raise ValueProblem(message.format(text=text))
    return text


def _u32(words: _Words, hi: int, message: str) -> int:
    text = words.take()
    value = _unsigned(text, hi)
    if value is None:
        raise ValueProblem(message % text)
    return value


def _parse_encap(words: _Words) -> Encap:
    """After the word 'encap'."""
    if not words.more():
        raise ValueProblem("Missing encap type")
    kind = words.take()
    if kind in ("ip", "ip6"):
        params: list[tuple[str, str]] = []
        keys = ("id", "dst", "src", "tos", "ttl", "flags") if kind == "ip" else (
            "id", "dst", "src", "tc", "hoplimit", "flags")
        while words.i + 1 < len(words.args) and words.peek() in keys:
            key = words.take()
            val = words.take()
            if key in ("dst", "src"):
                addr = _plain_ip(val)
                if addr is None:
                    raise ValueProblem(f"Invalid encap {kind} {key} {val}")
                if addr.version != (4 if kind == "ip" else 6):
                    other = "IPv6" if kind == "ip" else "IPv4"
                    raise ValueProblem(f"{other} address {val} not valid for {kind} encapsulation")
                val = str(addr)
            elif key in ("tos", "tc"):
                if rt_lookup("rt_dsfield", val) is None:
                    raise ValueProblem(f"{key} value {val} is invalid for {kind} encapsulation")
            else:
                hi = {"id": 2**64 - 1, "ttl": 255, "hoplimit": 255, "flags": 65535}[key]
                if _unsigned(val, hi) is None:
                    raise ValueProblem(f"{key} {val} is not valid for {kind} encapsulation")
            params.append((key, val))
        if not any(k in ("dst", "id") for k, _v in params):
            raise ValueProblem(f"address or id missing for {kind} encapsulation")
        return Encap(kind, tuple(params))
    if kind in ("mpls", "ila"):
        if not words.more():
            raise ValueProblem("missing address for MPLS encapsulation" if kind == "mpls"
                               else "missing locator for ILA encapsulation")
        val = words.take()
        ok = (re.fullmatch(r"\d+(/\d+)*", val) if kind == "mpls"
              else re.fullmatch(r"[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){3}", val))
        if not ok:
            raise ValueProblem(f"invalid mpls address {val} for encapsulation" if kind == "mpls"
                               else f"invalid locator {val} for ila encapsulation")
        return Encap(kind, (("label" if kind == "mpls" else "locator", val),))
    raise ValueProblem(f"Unknown encap type - {kind}")


def _check_family(current: int | None, new: int | None, message: str) -> int | None:
    if new is None:
        return current
    if current is not None and current != new:
        raise ValueProblem(message)
    return new


class RouteEntry(ValueType):
    """One route line; `static=True` for static_routes (accepts track_group)."""

    max_args = None

    def __init__(self, static: bool = False):
        self.static = static

    def parse(self, args, ctx: Ctx) -> Route:  # noqa: C901 - one branch per keyword, as keepalived
        words = _Words(args, ctx)
        v: dict[str, object] = {}
        locked: set[str] = set()
        family: int | None = None  # what the line has settled so far
        explicit: int | None = None
        nexthops: list[Nexthop] = []
        dest_text = ""
        mix = "Cannot mix IPv4 and IPv6 addresses for route"
        while words.more():
            word = words.take()
            if word in ("inet", "inet6"):
                fam = 6 if word == "inet6" else 4
                if family is not None and family != fam:
                    raise ValueProblem(f"{word} specified for IPv{10 - fam} route")
                family = explicit = fam
                if words.more():  # keepalived 2.2.7 steps over the word after inet/inet6
                    words.take()
            elif word == "src":
                text = words.take()
                addr = _plain_ip(text)
                if addr is None:
                    raise ValueProblem(f"invalid route src address {text}")
                family = _check_family(family, addr.version, mix)
                v["src"] = addr
            elif word == "as":
                if words.take() == "to" and words.more():
                    words.take()
                ctx.warn("\"as to\" for MPLS only - ignoring", GE)
            elif word in ("via", "gw"):
                if word == "gw":
                    ctx.warn("\"gw\" for routes is deprecated. Please use \"via\"", GE)
                text = words.take()
                if text in ("inet", "inet6"):
                    fam = 6 if text == "inet6" else 4
                    family = _check_family(family, fam, mix)
                    text = words.take()
                addr = _plain_ip(text)
                if addr is None:
                    raise ValueProblem(f"invalid route via address {text}")
                family = _check_family(family, addr.version, mix)
                v["via"] = addr
            elif word == "from":
                text = words.take()
                parsed = parse_prefix(text)
                if parsed is None:
                    raise ValueProblem(f"invalid route from address {text}")
                if parsed[1] != 6:
                    raise ValueProblem(f"route from address only supported with IPv6 ({text})")
                family = _check_family(family, 6, mix)
                v["from_"] = parsed[0]
            elif word in ("tos", "dsfield"):
                v["tos"] = _take_known(words, "rt_dsfield", "TOS value {text} is invalid")
            elif word == "table":
                v["table"] = _take_known(words, "rt_tables", "Routing table {text} not found for route")
            elif word == "protocol":
                v["protocol"] = _take_known(words, "rt_protos", "Protocol {text} not found or invalid for route")
            elif word == "scope":
                v["scope"] = _take_known(words, "rt_scopes", "Scope {text} not found or invalid for route")
            elif word in ("metric", "priority", "preference"):
                v["metric"] = _u32(words, U32_MAX, "Invalid metric %s specified for route")
            elif word in ("dev", "oif"):
                v["dev"] = words.take()
            elif word == "onlink":
                v["onlink"] = True
            elif word == "encap":
                v["encap"] = _parse_encap(words)
            elif word == "expires":
                if family == 4:
                    raise ValueProblem("expires is only valid for IPv6")
                family = 6
                v["expires"] = _u32(words, U32_MAX, "Invalid expires time %s specified for route")
            elif word in _LOCKABLE:
                if words.more() and words.peek() == "lock":
                    words.take()
                    locked.add(word)
                if word in ("rtt", "rttvar", "rto_min"):
                    text = words.take()
                    if not _rtt_ok(text, {"rtt": 8, "rttvar": 4, "rto_min": 1}[word]):
                        what = "rto_min value" if word == "rto_min" else word
                        raise ValueProblem(f"Invalid {what} {text} for route" if word != "rto_min"
                                           else f"Invalid {what} {text} specified for route")
                    v[word] = text
                elif word == "congctl":
                    v["congctl"] = words.take()
                else:
                    label = {"mtu": "MTU", "advmss": "advmss"}.get(word, f"{word} value")
                    v[word] = _u32(words, U32_MAX, f"Invalid {label} %s specified for route")
            elif word == "hoplimit":
                v["hoplimit"] = _u32(words, 255, "Invalid hoplimit %s specified for route")
            elif word in ("window", "initcwnd", "initrwnd"):
                v[word] = _u32(words, U32_MAX, f"Invalid {word} value %s specified for route")
            elif word == "realms":
                text = words.take()
                if not _realms_ok(text):
                    raise ValueProblem(f"Invalid realms {text} for route")
                if family == 6:
                    raise ValueProblem("realms are only valid for IPv4")
                family = 4
                v["realms"] = text
            elif word == "features":
                text = words.take()
                if text == "ecn":
                    v["features_ecn"] = True
                else:
                    ctx.warn(f"feature {text} not supported", GE)
            elif word == "quickack":
                v["quickack"] = _u32(words, 1, "Invalid quickack value %s specified for route")
            elif word == "pref":
                text = words.take()
                if family == 4:
                    raise ValueProblem("pref is only valid for IPv6")
                family = 6
                if text not in ("low", "medium", "high") and _unsigned(text, 255) is None:
                    raise ValueProblem(f"Invalid pref value {text} specified for route")
                v["pref"] = text
            elif word == "ttl-propagate":
                text = words.take()
                if text in ("enabled", "disabled"):
                    v["ttl_propagate"] = text == "enabled"
                else:
                    ctx.warn(f"ttl-propagate value {text} not recognised", GE)
            elif word == "fastopen_no_cookie":
                v["fastopen_no_cookie"] = _u32(words, 1, "Invalid fastopen_no_cookie value %s specified for route")
            elif word in ("add", "prepend", "append"):
                v["mode"] = word
            elif word == "or":
                ctx.warn("\"or\" for routes is deprecated. Please use \"nexthop\"", GE)
                text = words.take()
                if nexthops:
                    ctx.warn("\"or\" route already specified - ignoring subsequent", GE)
                    continue
                addr = _plain_ip(text)
                if addr is None:
                    raise ValueProblem(f"Invalid \"or\" address {text}")
                nexthops = [Nexthop(via=v.pop("via", None)), Nexthop(via=addr)]  # type: ignore[arg-type]
            elif word == "nexthop":
                if nexthops:
                    ctx.warn("Cannot specify nexthops with \"or\" route", GE)
                    # keepalived stops reading the line here
                    if words.more():
                        raise ValueProblem(f"Route has trailing nonsense - {words.args[words.i - 1]}")
                    break
                words.i -= 1
                nexthops, family = self._nexthops(words, family)
                break
            elif word == "no_track":
                v["no_track"] = True
            elif word == "track_group" and self.static:
                text = words.take()
                if "track_group" in v:
                    ctx.warn(f"track_group {text} is a duplicate", GE)
                    break
                v["track_group"] = text
            elif word == "vrf":
                v["vrf"] = words.take()
            else:
                if word == "to":
                    word = words.take()
                elif word in _RTNTYPES or _unsigned(word, 255, 0) is not None:
                    v["type"] = word
                    word = words.take()
                parsed = parse_prefix(word)
                if parsed is None:
                    raise ValueProblem(f"unknown route keyword {word}")
                dst, fam = parsed
                if fam is not None and family is not None and fam != family:
                    raise ValueProblem(f"Cannot mix IPv4 and IPv6 addresses for route ({word})")
                if fam is not None and word == "default6":
                    explicit = 6
                family = fam if fam is not None else family
                v["dst"] = dst
                dest_text = word
        if "dst" not in v:
            raise ValueProblem("Route must have a destination")
        route = Route(family=explicit, locked=frozenset(locked), nexthops=tuple(nexthops), pos=ctx.pos,
                      **v)  # type: ignore[arg-type]
        if not route.no_track:
            if route.protocol is not None and rt_lookup("rt_protos", route.protocol) != RTPROT_KEEPALIVED:
                ctx.warn(f"Route cannot be tracked if protocol is not RTPROT_KEEPALIVED({RTPROT_KEEPALIVED}), "
                         "resetting protocol", GE)
            if route.dev is None:
                ctx.warn(f"Warning - cannot track route {dest_text} with no interface specified, not tracking", GE)
        if route.track_group is not None and route.dev is None:
            ctx.warn("Static route cannot have track group if no oif specified", GE)
        return route

    @staticmethod
    def _nexthops(words: _Words, family: int | None) -> tuple[list[Nexthop], int | None]:
        hops: list[Nexthop] = []
        while words.more() and words.peek() == "nexthop":
            words.take()
            h: dict[str, object] = {}
            while words.more():
                word = words.peek()
                if word == "via":
                    words.take()
                    text = words.take()
                    fam = None
                    if text in ("inet", "inet6"):
                        fam = 6 if text == "inet6" else 4
                        text = words.take()
                        if family is not None and family != fam:
                            raise ValueProblem("IPv4/6 mismatch for nexthop")
                        family = fam
                    addr = _plain_ip(text)
                    if addr is None:
                        raise ValueProblem(f"invalid nexthop address {text}")
                    if family is not None and addr.version != family:
                        raise ValueProblem("Address family mismatch for next hop")
                    family = addr.version
                    h["via"] = addr
                elif word == "dev":
                    words.take()
                    h["dev"] = words.take()
                elif word == "weight":
                    words.take()
                    text = words.take()
                    value = _unsigned(text, 256)
                    if value is None:
                        raise ValueProblem(f"Invalid weight {text} specified for route")
                    if value == 0:
                        raise ValueProblem("Invalid weight 0 specified for route")
                    h["weight"] = value
                elif word == "onlink":
                    words.take()
                    h["onlink"] = True
                elif word == "encap":
                    words.take()
                    h["encap"] = _parse_encap(words)
                elif word == "realms":
                    words.take()
                    text = words.take()
                    if not _realms_ok(text):
                        raise ValueProblem(f"Invalid realms {text} for route")
                    if family == 6:
                        raise ValueProblem("realms are only supported for IPv4")
                    family = 4
                    h["realms"] = text
                elif word == "as":
                    raise ValueProblem("'as [to]' (nat) not supported")
                else:
                    break
            hops.append(Nexthop(**h))  # type: ignore[arg-type]
        if words.more():
            raise ValueProblem(f"Route has trailing nonsense after nexthops - {words.peek()}")
        return hops, family

    def format(self, value: Route) -> list[str]:
        out: list[str] = []
        if value.type is not None:
            out.append(value.type)
        out.append(value.dst)
        if value.src is not None:
            out += ["src", str(value.src)]
        if value.from_ is not None:
            out += ["from", value.from_]
        if value.via is not None:
            out += ["via", str(value.via)]
        if value.dev is not None:
            out += ["dev", _quote(value.dev)]
        for name in ("tos", "table", "protocol", "scope"):
            item = getattr(value, name)
            if item is not None:
                out += [name, _quote(item)]
        if value.metric is not None:
            out += ["metric", str(value.metric)]
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
                out.append(str(item))
        if value.features_ecn:
            out += ["features", "ecn"]
        if value.quickack is not None:
            out += ["quickack", str(value.quickack)]
        if value.congctl is not None:
            out += ["congctl", *(["lock"] if "congctl" in value.locked else []), _quote(value.congctl)]
        if value.pref is not None:
            out += ["pref", value.pref]
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


# --------------------------------------------------------------------------- rules
_RULE_ACTIONS = ("goto", "nop", "blackhole", "unreachable", "prohibit")


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of virtual_rules / static_rules (`ip rule add` syntax).

    The action is `table` (lookup), `l3mdev`, or one of goto/nop/blackhole/unreachable/prohibit.
    """

    from_: str | None = None
    to: str | None = None
    family: int | None = None  # given by 'inet'/'inet6'
    table: str | None = None
    action: str | None = None  # goto | nop | blackhole | unreachable | prohibit (None: table/l3mdev)
    goto: int | None = None
    invert: bool = False  # 'not'
    preference: int | None = None
    tos: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None
    realms: str | None = None
    suppress_prefixlength: int | None = None
    suppress_ifgroup: str | None = None
    iif: str | None = None
    oif: str | None = None
    tunnel_id: int | None = None
    uidrange: tuple[int, int] | None = None
    l3mdev: bool = False
    protocol: int | None = None
    ipproto: str | None = None
    sport: tuple[int, int] | None = None
    dport: tuple[int, int] | None = None
    no_track: bool = False
    track_group: str | None = None
    pos: SourcePos | None = field(default=None, compare=False)

    @property
    def ip_family(self) -> int:
        for fam in (self.family, _family_of(self.from_), _family_of(self.to)):
            if fam:
                return fam
        return 4

    def interfaces(self) -> tuple[str, ...]:
        return tuple(n for n in (self.iif, self.oif) if n)


def _port_range(text: str) -> tuple[int, int] | None:
    m = re.match(r"^\s*\+?(\d+)(?:-\+?(\d+))?", text)
    if not m:
        return None
    start = int(m.group(1)) & 0xFFFF
    end = int(m.group(2)) & 0xFFFF if m.group(2) is not None else start
    return start, end


def _ipproto_ok(text: str) -> bool:
    body = text.strip(" \t")
    if not body or body[0] == "-":
        return False
    num = _strtoul(body, 10)
    if num is not None:
        return num <= 127
    if body[0].isdigit():
        return False
    try:
        socket.getprotobyname(body)
    except OSError:
        return False
    return True


class RuleEntry(ValueType):
    """One rule line; `static=True` for static_rules (accepts track_group)."""

    max_args = None

    def __init__(self, static: bool = False):
        self.static = static

    def parse(self, args, ctx: Ctx) -> Rule:  # noqa: C901 - one branch per keyword, as keepalived
        words = _Words(args, ctx)
        v: dict[str, object] = {}
        family: int | None = None
        explicit: int | None = None
        table_option = False
        mixed = "rule specification has mixed IPv4 and IPv6"
        have_action = False

        def set_action() -> None:
            nonlocal have_action
            if have_action:
                raise ValueProblem("Cannot specify more than one of table/nop/goto/blackhole/prohibit/"
                                   "unreachable/l3mdev for rule")
            have_action = True

        while words.more():
            word = words.take()
            if word in ("inet", "inet6"):
                fam = 6 if word == "inet6" else 4
                if family is not None and family != fam:
                    raise ValueProblem(f"{word} specified for IPv{10 - fam} rule")
                family = explicit = fam
                if words.more():  # keepalived 2.2.7 steps over the word after inet/inet6
                    words.take()
            elif word in ("from", "to"):
                text = words.take()
                parsed = parse_prefix(text)
                if parsed is None:
                    raise ValueProblem(f"Invalid rule {word} address {text}")
                family = _check_family(family, parsed[1], mixed)
                if text == "default6":
                    explicit = 6
                v["from_" if word == "from" else "to"] = parsed[0]
            elif word in ("table", "lookup"):
                text = words.take()
                num = rt_lookup("rt_tables", text)
                if num is None:
                    raise ValueProblem(f"Routing table {text} not found for rule")
                if num == 0:
                    raise ValueProblem("Table 0 is not valid")
                set_action()
                v["table"] = text
            elif word == "not":
                v["invert"] = True
            elif word in ("preference", "order", "priority"):
                value = _unsigned(words.take(), U32_MAX, 0)
                if value is None:
                    raise ValueProblem(f"Invalid rule preference {word} specified")
                v["preference"] = value
            elif word in ("tos", "dsfield"):
                v["tos"] = _take_known(words, "rt_dsfield", "TOS value {text} is invalid")
            elif word == "fwmark":
                text = words.take()
                mark, _, mask = text.strip(" \t").partition("/")
                mark_v = _strtoul(mark)
                mask_v = _strtoul(mask) if mask else None
                if (mark_v is None or mark_v > U32_MAX or (mask and (mask_v is None or mask_v > U32_MAX))
                        or text.strip().startswith("-")):
                    raise ValueProblem(f"Invalid rule fwmark {text} specified")
                v["fwmark"] = mark_v
                if mask:
                    v["fwmask"] = mask_v
            elif word == "realms":
                text = words.take()
                if not _realms_ok(text):
                    raise ValueProblem(f"invalid realms {text} for rule")
                table_option = True
                if family is not None and family != 4:
                    raise ValueProblem("realms is only valid for IPv4")
                family = 4
                v["realms"] = text
            elif word in ("suppress_prefixlength", "sup_pl"):
                value = _unsigned(words.take(), 0x7FFFFFFF)
                if value is None:
                    raise ValueProblem(f"Invalid suppress_prefixlength {word} specified")
                v["suppress_prefixlength"] = value
                table_option = True
            elif word in ("suppress_ifgroup", "sup_group"):
                v["suppress_ifgroup"] = _take_known(words, "group", "suppress_group {text} is invalid")
                table_option = True
            elif word in ("dev", "iif"):
                v["iif"] = words.take()
            elif word == "oif":
                v["oif"] = words.take()
            elif word == "tunnel-id":
                value = _unsigned(words.take(), 2**64 - 1)
                if value is None:
                    raise ValueProblem(f"Invalid tunnel-id {word} specified")
                v["tunnel_id"] = value
            elif word == "uidrange":
                text = words.take()
                m = re.match(r"^\s*(\d+)-\s*(\d+)", text)
                if not m or int(m.group(1)) > U32_MAX or int(m.group(2)) > U32_MAX:
                    raise ValueProblem(f"Invalid uidrange {word} specified")
                v["uidrange"] = (int(m.group(1)), int(m.group(2)))
            elif word == "l3mdev":
                if have_action:
                    raise ValueProblem("Cannot specify l3mdev with other action")
                have_action = True
                v["l3mdev"] = True
            elif word == "protocol":
                text = words.take()
                value = _unsigned(text, 255)
                if value is None:
                    ctx.warn(f"Invalid protocol {text}", GE)
                else:
                    v["protocol"] = value
            elif word == "ipproto":
                text = words.take()
                if _ipproto_ok(text):
                    v["ipproto"] = text
                else:
                    ctx.warn(f"Invalid ipproto {text}", GE)
            elif word in ("sport", "dport"):
                text = words.take()
                rng = _port_range(text)
                if rng is not None and "-" not in text:
                    rng = None  # keepalived 2.2.7 rejects a single port (sscanf count check)
                if rng is None:
                    ctx.warn(f"invalid {word} range {text}", GE)
                else:
                    v[word] = rng
            elif word == "no_track":
                v["no_track"] = True
            elif word == "track_group" and self.static:
                text = words.take()
                if "track_group" in v:
                    ctx.warn(f"track_group {text} is a duplicate", GE)
                    break
                v["track_group"] = text
            else:
                if word == "type":
                    word = words.take()
                if word == "goto":
                    value = _unsigned(words.take(), U32_MAX)
                    if value is None:
                        raise ValueProblem(f"Invalid target {word} specified")
                    v["goto"] = value
                elif word == "nop":
                    pass
                elif word in _RTNTYPES or _unsigned(word, 255, 0) is not None:
                    ident = _RTNTYPE_IDS.get(word, _unsigned(word, 255, 0))
                    names = {6: "blackhole", 7: "unreachable", 8: "prohibit"}
                    if ident not in names:
                        raise ValueProblem(f"Invalid rule action {word}")
                    word = names[ident]  # type: ignore[index]
                else:
                    raise ValueProblem(f"Unknown rule option {word}")
                set_action()
                v["action"] = word
        rule = Rule(family=explicit, pos=ctx.pos, **v)  # type: ignore[arg-type]
        if rule.action == "goto":
            if rule.preference is None:
                raise ValueProblem(f"Invalid rule - goto target {rule.goto} specified without preference")
            if rule.preference >= (rule.goto or 0):
                raise ValueProblem(f"Invalid rule - preference {rule.preference} >= goto target {rule.goto}")
        if not have_action:
            raise ValueProblem("No action specified for rule - ignoring")
        if table_option and rule.table is None and not rule.l3mdev:
            raise ValueProblem("suppressor/realm specified for non table action - skipping")
        if rule.table is not None and rule.l3mdev:
            raise ValueProblem("table cannot be specified for l3mdev rules")
        if not rule.no_track and rule.protocol is not None and rule.protocol != RTPROT_KEEPALIVED:
            ctx.warn(f"Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED({RTPROT_KEEPALIVED}), "
                     "resetting protocol", GE)
        if rule.track_group is not None and rule.iif is None:
            ctx.warn("Static rule cannot have track_group if dev/iif not specified", GE)
        if rule.preference is None:
            ctx.warn("Rule has no preference specified - setting to a default. This is probably not what you "
                     "want.", GE)
        return rule

    def format(self, value: Rule) -> list[str]:
        out: list[str] = []
        if value.invert:
            out.append("not")
        if value.from_ is not None:
            out += ["from", value.from_]
        if value.to is not None:
            out += ["to", value.to]
        if value.preference is not None:
            out += ["preference", str(value.preference)]
        if value.tos is not None:
            out += ["tos", value.tos]
        if value.fwmark is not None:
            out += ["fwmark", f"{value.fwmark}" + (f"/{value.fwmask}" if value.fwmask is not None else "")]
        if value.realms is not None:
            out += ["realms", value.realms]
        if value.suppress_prefixlength is not None:
            out += ["suppress_prefixlength", str(value.suppress_prefixlength)]
        if value.suppress_ifgroup is not None:
            out += ["suppress_ifgroup", value.suppress_ifgroup]
        if value.iif is not None:
            out += ["iif", _quote(value.iif)]
        if value.oif is not None:
            out += ["oif", _quote(value.oif)]
        if value.tunnel_id is not None:
            out += ["tunnel-id", str(value.tunnel_id)]
        if value.uidrange is not None:
            out += ["uidrange", f"{value.uidrange[0]}-{value.uidrange[1]}"]
        if value.protocol is not None:
            out += ["protocol", str(value.protocol)]
        if value.ipproto is not None:
            out += ["ipproto", value.ipproto]
        for name in ("sport", "dport"):
            rng = getattr(value, name)
            if rng is not None:
                out += [name, f"{rng[0]}-{rng[1]}"]
        if value.no_track:
            out.append("no_track")
        if value.track_group is not None:
            out += ["track_group", _quote(value.track_group)]
        if value.table is not None:
            out += ["table", _quote(value.table)]
        if value.l3mdev:
            out.append("l3mdev")
        if value.action == "goto":
            out += ["goto", str(value.goto)]
        elif value.action is not None:
            out.append(value.action)
        if value.family is not None:  # last: keepalived steps over the word after it
            out.append("inet6" if value.family == 6 else "inet")
        return out


class StaticRuleEntry(RuleEntry):
    """static_rules line (accepts track_group)."""

    def __init__(self) -> None:
        super().__init__(static=True)


#: kept for older imports: a route or a rule line
RouteOrRule = Route | Rule


# --------------------------------------------------------------------------- interface checks
def missing_interfaces(entry: VirtualAddress | Route | Rule, interfaces: frozenset[str]) -> list[str]:
    """The interfaces an entry names that the host lacks (for keepalived's 'doesn't exist' checks)."""
    if isinstance(entry, VirtualAddress):
        names: tuple[str, ...] = (entry.dev,) if entry.dev else ()
    else:
        names = entry.interfaces()
    return [name for name in names if name not in interfaces]


def interface_message(entry: VirtualAddress | Route | Rule, ifname: str) -> str:
    """keepalived's message for a missing interface on this kind of entry."""
    if isinstance(entry, VirtualAddress):
        text = entry.address.with_prefixlen if entry.peer is None else str(entry.address.ip)
        return f"WARNING - interface {ifname} for ip address {text} doesn't exist"
    if isinstance(entry, Route):
        return f"WARNING - interface {ifname} for VROUTE nexthop doesn't exist"
    return f"WARNING - interface {ifname} for rule doesn't exist"
