"""A virtual_routes / static_routes line as a value: `Route`, its `Nexthop`s and `Encap`.

Names from /etc/iproute2 (table, protocol, scope, realms, dsfield) are numbers here, and
every value is what keepalived 2.2.7 hands the kernel (rtt in 1/8 ms, realms as RTA_FLOW,
nexthop weights as written): the netlink adapter reads them as they are. The line syntax
is read and written by route_entry.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keepalived_py.config.model.ipline import (
    IPAddress,
    family_of,
)
from keepalived_py.config.model.iproute2 import (
    RTPROT_KEEPALIVED,
    format_realms,
)
from keepalived_py.config.schema import _quote
from keepalived_py.errors import SourcePos

#: RTAX_* numbers, for the lock bit mask
RTAX = {"mtu": 2, "window": 3, "rtt": 4, "rttvar": 5, "ssthresh": 6, "cwnd": 7, "advmss": 8,
        "reordering": 9, "hoplimit": 10, "initcwnd": 11, "features": 12, "rto_min": 13, "initrwnd": 14,
        "quickack": 15, "congctl": 16, "fastopen_no_cookie": 17}
#: ICMPV6_ROUTER_PREF_* of `pref low|medium|high`
PREF = {"low": 3, "medium": 0, "high": 1}
PREF_NAMES = {v: k for k, v in PREF.items()}


@dataclass(frozen=True, slots=True)
class Encap:
    """`encap TYPE ...` of a route or nexthop: mpls LABEL[/LABEL..] | ip/ip6 KEY VALUE ... | ila LOCATOR.

    For ip6, `tos` holds `tc` and `ttl` holds `hoplimit`."""

    type: str  # mpls | ip | ip6 | ila
    id: int | None = None
    dst: IPAddress | None = None
    src: IPAddress | None = None
    tos: int | None = None
    ttl: int | None = None
    flags: int | None = None
    labels: tuple[int, ...] = ()
    locator: int | None = None  # 64 bits, the four groups big-endian

    def words(self) -> list[str]:
        out = ["encap", self.type]
        if self.type == "mpls":
            return out + ["/".join(str(label) for label in self.labels)]
        if self.type == "ila":
            loc = self.locator or 0
            return out + [":".join(f"{(loc >> s) & 0xFFFF:x}" for s in (48, 32, 16, 0))]
        v6 = self.type == "ip6"
        for key, val in (("id", self.id), ("dst", self.dst), ("src", self.src),
                         ("tc" if v6 else "tos", self.tos), ("hoplimit" if v6 else "ttl", self.ttl),
                         ("flags", self.flags)):
            if val is not None:
                out += [key, str(val)]
        return out


@dataclass(frozen=True, slots=True)
class Nexthop:
    """`nexthop [via [inet|inet6] ADDR] [dev IF] [weight 1..256] [onlink] [encap ...] [realms R]`."""

    via: IPAddress | None = None
    dev: str | None = None
    weight: int | None = None
    onlink: bool = False
    encap: Encap | None = None
    realms: int | None = None

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
            out += ["realms", format_realms(self.realms)]
        return out


@dataclass(frozen=True, slots=True)
class Route:
    """One line of virtual_routes / static_routes (`ip route add` syntax)."""

    dst: str  # ADDR/LEN canonical, or default/any/all
    type: int | None = None  # RTN_*; None: unicast
    family: int | None = None  # given by 'inet'/'inet6' (or implied by default6)
    src: IPAddress | None = None
    from_: str | None = None  # IPv6 source prefix ('from')
    via: IPAddress | None = None
    dev: str | None = None
    tos: int | None = None
    table: int | None = None
    protocol: int | None = None  # as written; see kernel_protocol
    scope: int | None = None
    metric: int | None = None
    onlink: bool = False
    encap: Encap | None = None
    expires: int | None = None
    mtu: int | None = None
    hoplimit: int | None = None
    advmss: int | None = None
    rtt: int | None = None  # 1/8 ms
    rttvar: int | None = None  # 1/4 ms
    reordering: int | None = None
    window: int | None = None
    cwnd: int | None = None
    ssthresh: int | None = None
    realms: int | None = None
    rto_min: int | None = None  # ms
    initcwnd: int | None = None
    initrwnd: int | None = None
    features_ecn: bool = False
    quickack: int | None = None
    congctl: str | None = None
    pref: int | None = None  # ICMPV6_ROUTER_PREF_*
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
        for fam in (self.family, family_of(self.dst), family_of(self.from_)):
            if fam:
                return fam
        for addr in (self.src, self.via, *(nh.via for nh in self.nexthops)):
            if addr is not None:
                return addr.version
        return 4

    @property
    def kernel_protocol(self) -> int:
        """The protocol keepalived installs the route with: RTPROT_KEEPALIVED, unless the route
        is no_track and names a protocol ("resetting protocol" otherwise)."""
        if self.no_track and self.protocol is not None:
            return self.protocol
        return RTPROT_KEEPALIVED

    @property
    def lock_mask(self) -> int:
        """RTAX_LOCK: one bit per metric given with 'lock'."""
        mask = 0
        for name in self.locked:
            mask |= 1 << RTAX[name]
        return mask

    def interfaces(self) -> tuple[str, ...]:
        names = [self.dev] if self.dev else []
        names += [nh.dev for nh in self.nexthops if nh.dev]
        return tuple(names)

    @staticmethod
    def interface_message(ifname: str) -> str:
        return f"WARNING - interface {ifname} for VROUTE nexthop doesn't exist"
