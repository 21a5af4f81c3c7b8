"""virtual_ipaddress / static_ipaddress lines, and the entry types of the static_* blocks.

One address line becomes a frozen `VirtualAddress`. The option syntax and the messages
follow keepalived 2.2.7 (vrrp_ipaddress.c), which follows `ip address add` without
abbreviations. An option that keepalived ignores with a message draws the same message
here (GENERAL_ERROR); a line keepalived drops raises ValueProblem, so the entry is left
out, as keepalived leaves it out. The scope is resolved to its number (rt_scopes).

Routes live in routes.py, rules in rules.py, iproute2's name tables in iproute2.py; their
names are re-exported here for older imports.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from keepalived_py.config.model.ipline import (
    GE,
    IPAddress,
    IPInterface,
    parse_ip,
    parse_prefix,
    unsigned,
)
from keepalived_py.config.model.iproute2 import RTPROT_KEEPALIVED, U32_MAX, rt_lookup
from keepalived_py.config.model.route_entry import RouteEntry, StaticRouteEntry
from keepalived_py.config.model.routes import Encap, Nexthop, Route
from keepalived_py.config.model.rules import Rule, RuleEntry, StaticRuleEntry
from keepalived_py.config.schema import Ctx, ValueProblem, ValueType, _quote
from keepalived_py.errors import SourcePos

__all__ = [
    "DEFAULT_INTERFACE", "FOREVER", "IFNAMSIZ", "RTPROT_KEEPALIVED", "Encap", "IPAddress", "IPInterface",
    "Nexthop", "Route", "RouteEntry", "RouteOrRule", "Rule", "RuleEntry", "StaticAddressEntry",
    "StaticRouteEntry", "StaticRuleEntry", "VirtualAddress", "VirtualAddressEntry", "interface_message",
    "missing_interfaces", "parse_ip", "parse_prefix", "rt_lookup",
]

#: preferred_lft forever (INFINITY_LIFE_TIME)
FOREVER = 0xFFFFFFFF
IFNAMSIZ = 16
#: the interface of static addresses without 'dev' when global_defs has no default_interface
DEFAULT_INTERFACE = "eth0"


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
    scope: int | None = None  # RT_SCOPE_* (a name from rt_scopes, resolved)
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

    def interfaces(self) -> tuple[str, ...]:
        return (self.dev,) if self.dev else ()

    def interface_message(self, ifname: str) -> str:
        text = self.address.with_prefixlen if self.peer is None else str(self.address.ip)
        return f"WARNING - interface {ifname} for ip address {text} doesn't exist"

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
                    scope = rt_lookup("rt_scopes", param)
                    if scope is None:
                        ctx.warn(f"Invalid scope '{param}' specified for {first} - ignoring", GE)
                    else:
                        values["scope"] = scope
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
                    except ValueProblem as problem:
                        ctx.warn(str(problem), GE)  # parse_ipaddress() reports first
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
                        value = unsigned(param, U32_MAX, ctx)
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
            words += ["scope", str(value.scope)]
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


#: a route or a rule line
RouteOrRule = Route | Rule


# --------------------------------------------------------------------------- interface checks
def missing_interfaces(entry: VirtualAddress | Route | Rule, interfaces: frozenset[str]) -> list[str]:
    """The interfaces an entry names that the host lacks (for keepalived's 'doesn't exist' checks)."""
    return [name for name in entry.interfaces() if name not in interfaces]


def interface_message(entry: VirtualAddress | Route | Rule, ifname: str) -> str:
    """keepalived's message for a missing interface on this kind of entry."""
    return entry.interface_message(ifname)
