"""keepalived 2.2.7's VRRP nftables tables as data: which parts exist, and what they hold.

Why a model of parts: keepalived (vrrp_nftables.c) builds its tables lazily and only ever
adds to them until stop: the table and its `out` chain the first time a family is needed;
`vmac_map` (+ `vmac_set` for ip6) and their multicast rules when a VMAC is created; `in`,
`vips` (+ `neighbor-discovery` and the link-local chains for ip6) the first time a VIP is
filtered; a link-local set and its two rules the first time an address needs it. Rules are
appended, so their order (and the order nft lists sets in) is the order parts were built.
`Layout` records that order; `desired` renders a layout with the current set members.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

FAMILIES = ("ip", "ip6")
ND_TYPES = ("nd-neighbor-solicit", "nd-neighbor-advert")
VIPS = "vips"
LL_INDEX = "vips_link_local"
LL_NAME = "vips_link_local_name"
VMAC = "vmac"  # the part holding vmac_map / vmac_set
VMAC_MAP = "vmac_map"
VMAC_SET = "vmac_set"

Element = str | tuple[str, str]
Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class FirewallSettings:
    """The global_defs knobs that shape the tables."""

    table: str = "keepalived"
    priority: int = -1
    counters: bool = False
    ifindex: bool = False


@dataclass(frozen=True, slots=True)
class Member:
    """One element of one of our sets: a filtered VIP (vips, vips_link_local[_name]) or a
    VMAC (vmac_map: (vmac, base interface); vmac_set: vmac)."""

    family: str  # "ip" | "ip6"
    set_name: str
    element: Element

    @property
    def parts(self) -> tuple[str, ...]:
        if self.set_name in (VMAC_MAP, VMAC_SET):
            return (VMAC,)
        return (VIPS,) if self.set_name == VIPS else (VIPS, self.set_name)


@dataclass(frozen=True, slots=True)
class Layout:
    """The parts built so far per family, in build order. Only grows until stop."""

    ip: tuple[str, ...] = ()
    ip6: tuple[str, ...] = ()

    def parts(self, family: str) -> tuple[str, ...]:
        return self.ip if family == "ip" else self.ip6

    def grow(self, members: Iterable[Member]) -> Layout:
        out = self
        for m in members:
            have = out.parts(m.family)
            new = tuple(p for p in m.parts if p not in have)
            if new:
                out = replace(out, **{m.family: have + new})
        return out


@dataclass(frozen=True, slots=True)
class NftSet:
    name: str
    type: str | tuple[str, ...]
    flags: tuple[str, ...] = ()
    elements: frozenset[Element] = frozenset()
    map: str | None = None  # a map's data type

    @property
    def shape(self) -> tuple[Any, ...]:
        return (self.name, self.type, self.flags, self.map)


@dataclass(frozen=True, slots=True)
class Rule:
    """`expr` as nft lists it (what a reconcile compares); `send` as we submit it, when it
    differs (keepalived matches `ip6 nexthdr icmpv6`, which nft's listing leaves implicit)."""

    expr: tuple[Json, ...]
    send: tuple[Json, ...] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Chain:
    name: str
    hook: str | None = None  # base chains: input/output, type filter, policy accept
    prio: int | None = None
    rules: tuple[Rule, ...] = ()

    @property
    def shape(self) -> tuple[Any, ...]:
        return (self.name, self.hook, self.prio)


@dataclass(frozen=True, slots=True)
class Table:
    family: str
    name: str
    sets: tuple[NftSet, ...] = ()
    chains: tuple[Chain, ...] = ()

    def set(self, name: str) -> NftSet | None:
        return next((s for s in self.sets if s.name == name), None)

    def chain(self, name: str) -> Chain | None:
        return next((c for c in self.chains if c.name == name), None)


Ruleset = dict[str, Table]  # by family; a family absent means no table


def _match(left: Json, right: Any) -> Json:
    return {"match": {"op": "==", "left": left, "right": right}}


def _payload(proto: str, fld: str) -> Json:
    return {"payload": {"protocol": proto, "field": fld}}


def _rule(settings: FirewallSettings, matches: Sequence[Json], verdict: Json,
          extra: Sequence[Json] = ()) -> Rule:
    counter = [{"counter": None}] if settings.counters else []
    expr = (*matches, *counter, verdict)
    return Rule(tuple(expr), (*extra, *expr) if extra else None)


def _addr_rules(settings: FirewallSettings, family: str, inbound: bool) -> list[Rule]:
    """nft_setup_ipv4_vips / nft_setup_ipv6_vips: the rules of the `in` or `out` chain."""
    fld = "daddr" if inbound else "saddr"
    rules = []
    if family == "ip6":
        nexthdr = _match(_payload("ip6", "nexthdr"), "ipv6-icmp")
        rules.append(_rule(settings, [_match(_payload("icmpv6", "type"), "@neighbor-discovery")],
                           {"accept": None}, extra=[nexthdr]))
        ll_chain = "in_link_local" if inbound else "out_link_local"
        rules.append(_rule(settings, [_match(_payload("ip6", fld), {"prefix": {"addr": "fe80::", "len": 10}})],
                           {"goto": {"target": ll_chain}}))
    rules.append(_rule(settings, [_match(_payload(family, fld), f"@{VIPS}")], {"drop": None}))
    return rules


def _ll_rule(settings: FirewallSettings, set_name: str, inbound: bool) -> Rule:
    """setup_link_local_checks: address . interface (index, or name) against the set."""
    meta = ("iif" if inbound else "oif") + ("name" if set_name == LL_NAME else "")
    left = {"concat": [_payload("ip6", "daddr" if inbound else "saddr"), {"meta": {"key": meta}}]}
    return _rule(settings, [_match(left, f"@{set_name}")], {"drop": None})


def _vmac_rules(settings: FirewallSettings, family: str) -> list[Rule]:
    """nft_setup_igmp: IGMP / MLD reports leaving a VMAC are sent on its base interface
    instead (dup to the daddr via vmac_map); router solicitations from a VMAC are dropped."""
    macvlan = _match({"meta": {"key": "oifkind"}}, "macvlan")
    dup = {"dup": {"addr": _payload(family, "daddr"),
                   "dev": {"map": {"key": {"meta": {"key": "oif"}}, "data": f"@{VMAC_MAP}"}}}}
    if family == "ip":
        return [_rule(settings, [_match(_payload("ip", "protocol"), "igmp"), macvlan, dup], {"drop": None})]
    icmp = _payload("icmpv6", "type")
    return [_rule(settings, [_match(icmp, "mld2-listener-report"), macvlan, dup], {"drop": None}),
            _rule(settings, [_match(icmp, "nd-router-solicit"), macvlan,
                             _match({"meta": {"key": "oif"}}, f"@{VMAC_SET}")], {"drop": None})]


def desired(settings: FirewallSettings, layout: Layout, members: Iterable[Member]) -> Ruleset:
    """The tables keepalived has for this layout with these members in the sets."""
    by_set: dict[tuple[str, str], set[Element]] = {}
    for m in members:
        by_set.setdefault((m.family, m.set_name), set()).add(m.element)

    def elems(family: str, name: str) -> frozenset[Element]:
        return frozenset(by_set.get((family, name), ()))

    out: Ruleset = {}
    for family in FAMILIES:
        parts = layout.parts(family)
        if not parts:
            continue
        sets: list[NftSet] = []
        out_rules: list[Rule] = []
        in_rules: list[Rule] = []
        ll_in: list[Rule] = []
        ll_out: list[Rule] = []
        for part in parts:
            if part == VMAC:
                sets.append(NftSet(VMAC_MAP, "iface_index", (), elems(family, VMAC_MAP), map="iface_index"))
                if family == "ip6":
                    sets.append(NftSet(VMAC_SET, "iface_index", (), elems(family, VMAC_SET)))
                out_rules += _vmac_rules(settings, family)
            elif part == VIPS:
                sets.append(NftSet(VIPS, "ipv4_addr" if family == "ip" else "ipv6_addr", (), elems(family, VIPS)))
                if family == "ip6":
                    sets.append(NftSet("neighbor-discovery", "icmpv6_type", ("constant",), frozenset(ND_TYPES)))
                out_rules += _addr_rules(settings, family, False)
                in_rules += _addr_rules(settings, family, True)
            elif family == "ip6" and part in (LL_INDEX, LL_NAME):
                kind = "ifname" if part == LL_NAME else "iface_index"
                sets.append(NftSet(part, ("ipv6_addr", kind), (), elems(family, part)))
                ll_in.append(_ll_rule(settings, part, True))
                ll_out.append(_ll_rule(settings, part, False))
        chains = [Chain("out", "output", settings.priority, tuple(out_rules))]
        if VIPS in parts:
            chains.append(Chain("in", "input", settings.priority, tuple(in_rules)))
            if family == "ip6":
                chains += [Chain("in_link_local", rules=tuple(ll_in)), Chain("out_link_local", rules=tuple(ll_out))]
        out[family] = Table(family, settings.table, tuple(sets), tuple(chains))
    return out
