"""The nftables filtering keepalived installs for `no_accept` / `vrrp_strict`, as keepalived 2.2.7 lays it out.

Why: a MASTER that must not accept traffic for its virtual addresses (RFC 5798 Accept_Mode
false: `no_accept`, or a non-owner under `vrrp_strict` with VRRPv2) drops packets to and from
them. keepalived (keepalived/vrrp/vrrp_nftables.c, vrrp_firewall.c) does that with one table
per family (`nftables [NAME]`, default "keepalived"; `vrrp_iptables` also means nftables in the
Debian build), base chains `in`/`out` at `nftables_priority` (default -1), the set `vips` and,
for IPv6, the `neighbor-discovery` constant set, the link-local chains `in_link_local` /
`out_link_local` and the sets `vips_link_local` (address . ifindex) and `vips_link_local_name`
(address . ifname: link-local VIPs on the instance's own interface with `dont_track_primary`,
unless `nftables_ifindex`). `nftables_counters` adds a counter to every rule.

When (vrrp.c): entering MASTER adds the instance's VIPs and eVIPs to the sets, leaving MASTER
(or stopping) removes them; the address owner and instances that accept are never filtered.
Tables, chains and sets are created the first time a family (or a link-local kind) is needed
and then stay, empty, until stop, which deletes the tables. Before any MASTER there is no table.

Layout of this module:
- pure: `settings_from_config`, `filtered_addresses`, `Layout` (what has been built so far),
  `desired` (the Ruleset for a layout and a set of addresses), `parse_listing` (nft's JSON
  listing -> Ruleset), `plan` (actual vs desired -> one nft JSON transaction);
- `NftFirewall`: the API the vrrp child calls, over an injected `NftBackend` port
  (keepalived_py/net/nft_libnftables.py is the libnftables adapter).

How the vrrp runtime should call it (not wired yet; keepalived_py/vrrpd/ owns that):
    fw = NftFirewall(LibNftables())          # in the vrrp child, after fork
    fw.start(config)                         # adopts a predecessor's table (respawn)
    fw.instance_state(iname, "MASTER")       # on every state change, and once per instance
    fw.instance_state(iname, "BACKUP")       #   with its initial state (FAULT/BACKUP/MASTER)
    fw.reload(new_config)                    # after a validated reload
    fw.stop()                                # at shutdown: deletes our tables, nothing else
Call instance_state(MASTER) before adding the VIPs and instance_state(<not MASTER>) after
removing them, as keepalived does. Each call is one netlink transaction through libnftables
(a few ms; blocking): run it in a thread (asyncio.to_thread) from the event loop.
A respawned child's start() keeps the elements of instances whose addresses are all present
(presumed MASTER, so their VIPs stay protected) until instance_state says otherwise.

Not done: the VMAC multicast rules keepalived adds for `use_vmac` (vmac_map/vmac_set with igmp /
MLD dup rules) and the iptables/ipset back-end (the Debian build has none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from ipaddress import ip_address
from typing import Any, Protocol

DEFAULT_TABLE = "keepalived"
FAMILIES = ("ip", "ip6")
ND_TYPES = ("nd-neighbor-solicit", "nd-neighbor-advert")
LL_INDEX = "vips_link_local"
LL_NAME = "vips_link_local_name"

Element = str | tuple[str, str]
Json = dict[str, Any]


# ---------------------------------------------------------------- config -> what to filter

@dataclass(frozen=True, slots=True)
class FirewallSettings:
    """The global_defs knobs that shape keepalived's VRRP table."""

    table: str = DEFAULT_TABLE
    priority: int = -1
    counters: bool = False
    ifindex: bool = False


@dataclass(frozen=True, slots=True)
class FilteredAddress:
    """One VIP/eVIP of an instance that does not accept: its set and element."""

    family: str  # "ip" | "ip6"
    set_name: str  # vips | vips_link_local | vips_link_local_name
    element: Element


def _instances(config: Any) -> tuple[Any, ...]:
    return tuple(i for i in getattr(config, "vrrp_instance", ()) if i.interface and i.virtual_router_id)


def _globals(config: Any) -> Any:
    g = getattr(config, "global_defs", None)
    if g is None:
        from keepalived_py.config.model.global_defs import GlobalDefs
        g = GlobalDefs()
    return g


def _filters(inst: Any, g: Any) -> bool:
    """keepalived's vrrp_handle_accept_mode(): neither the owner nor an accepting instance."""
    return not inst.address_owner and not inst.effective_accept(g.vrrp_strict, g.vrrp_version)


def settings_from_config(config: Any) -> FirewallSettings | None:
    """None when keepalived would not use nftables for VRRP: no `nftables`/`vrrp_iptables`
    and no instance needing it (vrrp.c turns it on for no_accept/strict and use_vmac)."""
    g = _globals(config)
    configured = g.nftables is not None or g.vrrp_iptables is not None
    # vrrp_complete_instance() looks at accept alone (an owner with no_accept turns it on too)
    needed = any(not i.effective_accept(g.vrrp_strict, g.vrrp_version) or i.use_vmac is not None
                 for i in _instances(config))
    if not configured and not needed:
        return None
    return FirewallSettings(table=g.nftables or DEFAULT_TABLE, priority=g.nftables_priority,
                            counters=g.nftables_counters, ifindex=g.nftables_ifindex)


def filtered_addresses(config: Any, settings: FirewallSettings) -> dict[str, tuple[FilteredAddress, ...]]:
    """Per instance name, the set elements its MASTER state adds (VIPs then eVIPs, in config
    order); instances that accept map to ()."""
    g = _globals(config)
    out: dict[str, tuple[FilteredAddress, ...]] = {}
    for inst in _instances(config):
        if not _filters(inst, g):
            out.setdefault(inst.name, ())
            continue
        own_if = inst.interface
        addrs: list[FilteredAddress] = []
        for va in (*inst.virtual_ipaddress, *inst.virtual_ipaddress_excluded):
            ip = va.address.ip
            if ip.version == 4:
                addrs.append(FilteredAddress("ip", "vips", str(ip)))
                continue
            if not ip.is_link_local:
                addrs.append(FilteredAddress("ip6", "vips", str(ip)))
                continue
            dev = va.dev or own_if
            # vrrp_nftables.c nft_update_ipv6_address(): by name only for dont_track_primary,
            # on the instance's interface (or no_track), and without nftables_ifindex
            by_name = not settings.ifindex and inst.dont_track_primary and (dev == own_if or va.no_track)
            addrs.append(FilteredAddress("ip6", LL_NAME if by_name else LL_INDEX, (str(ip), dev)))
        out.setdefault(inst.name, tuple(addrs))
    return out


# ---------------------------------------------------------------- the ruleset, as data

@dataclass(frozen=True, slots=True)
class Layout:
    """What keepalived has built so far: tables per family and link-local sets, in the order
    they were first needed (their rules are appended in that order). Only grows until stop."""

    ip: bool = False
    ip6: bool = False
    link_local: tuple[str, ...] = ()

    def grow(self, addrs: Iterable[FilteredAddress]) -> Layout:
        out = self
        for a in addrs:
            if a.family == "ip" and not out.ip:
                out = replace(out, ip=True)
            elif a.family == "ip6":
                if not out.ip6:
                    out = replace(out, ip6=True)
                if a.set_name != "vips" and a.set_name not in out.link_local:
                    out = replace(out, link_local=out.link_local + (a.set_name,))
        return out

    @property
    def empty(self) -> bool:
        return not (self.ip or self.ip6)


@dataclass(frozen=True, slots=True)
class NftSet:
    name: str
    type: str | tuple[str, ...]
    flags: tuple[str, ...] = ()
    elements: frozenset[Element] = frozenset()

    @property
    def shape(self) -> tuple[Any, ...]:
        return (self.name, self.type, self.flags)


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
    fld = "daddr" if inbound else "saddr"
    drop = {"drop": None}
    rules = []
    if family == "ip6":
        nexthdr = _match(_payload("ip6", "nexthdr"), "ipv6-icmp")
        rules.append(_rule(settings, [_match(_payload("icmpv6", "type"), "@neighbor-discovery")],
                           {"accept": None}, extra=[nexthdr]))
        ll_chain = "in_link_local" if inbound else "out_link_local"
        rules.append(_rule(settings, [_match(_payload("ip6", fld), {"prefix": {"addr": "fe80::", "len": 10}})],
                           {"goto": {"target": ll_chain}}))
    rules.append(_rule(settings, [_match(_payload(family, fld), "@vips")], drop))
    return rules


def _ll_rule(settings: FirewallSettings, set_name: str, inbound: bool) -> Rule:
    meta = ("iif" if inbound else "oif") + ("name" if set_name == LL_NAME else "")
    left = {"concat": [_payload("ip6", "daddr" if inbound else "saddr"), {"meta": {"key": meta}}]}
    return _rule(settings, [_match(left, f"@{set_name}")], {"drop": None})


def desired(settings: FirewallSettings, layout: Layout, elements: Iterable[FilteredAddress]) -> Ruleset:
    """The tables keepalived has for this layout with these addresses in the sets."""
    by_set: dict[tuple[str, str], set[Element]] = {}
    for a in elements:
        by_set.setdefault((a.family, a.set_name), set()).add(a.element)
    out: Ruleset = {}
    for family in FAMILIES:
        if not getattr(layout, family):
            continue
        vtype = "ipv4_addr" if family == "ip" else "ipv6_addr"
        sets = [NftSet("vips", vtype, (), frozenset(by_set.get((family, "vips"), ())))]
        base = [Chain("out", "output", settings.priority, tuple(_addr_rules(settings, family, False))),
                Chain("in", "input", settings.priority, tuple(_addr_rules(settings, family, True)))]
        if family == "ip6":
            sets.append(NftSet("neighbor-discovery", "icmpv6_type", ("constant",), frozenset(ND_TYPES)))
            for name in layout.link_local:
                kind = "ifname" if name == LL_NAME else "iface_index"
                sets.append(NftSet(name, ("ipv6_addr", kind), (), frozenset(by_set.get(("ip6", name), ()))))
            base.append(Chain("in_link_local", rules=tuple(_ll_rule(settings, n, True) for n in layout.link_local)))
            base.append(Chain("out_link_local", rules=tuple(_ll_rule(settings, n, False)
                                                            for n in layout.link_local)))
        out[family] = Table(family, settings.table, tuple(sets), tuple(base))
    return out


# ---------------------------------------------------------------- nft's JSON listing -> Ruleset

def _norm_elem(e: Any) -> Element:
    if isinstance(e, dict) and "elem" in e:  # {"elem": {"val": ..., "counter": ...}}
        e = e["elem"]["val"]
    if isinstance(e, dict) and "concat" in e:
        return tuple(str(x) for x in e["concat"])  # type: ignore[return-value]
    return str(e)


def _norm_expr(x: Json) -> Json:
    if "counter" in x:
        return {"counter": None}
    return x


def parse_listing(listing: Mapping[str, Any], table: str) -> Ruleset:
    """`nft -j list table ...` (or list ruleset) -> our tables, handles and counter values aside."""
    items = listing.get("nftables", [])
    sets: dict[str, list[NftSet]] = {}
    chains: dict[str, list[Chain]] = {}
    rules: dict[tuple[str, str], list[Rule]] = {}
    present: list[str] = []
    for item in items:
        if len(item) != 1:
            continue
        kind, body = next(iter(item.items()))
        if not isinstance(body, dict):
            continue
        fam = body.get("family")
        if kind == "table":
            if body["name"] == table and fam in FAMILIES:
                present.append(fam)
            continue
        if body.get("table") != table or fam not in FAMILIES:
            continue
        if kind == "set":
            typ = body["type"]
            sets.setdefault(fam, []).append(NftSet(
                body["name"], tuple(typ) if isinstance(typ, list) else typ, tuple(body.get("flags", ())),
                frozenset(_norm_elem(e) for e in body.get("elem", ()))))
        elif kind == "chain":
            base = "hook" in body and body.get("type") == "filter" and body.get("policy", "accept") == "accept"
            chains.setdefault(fam, []).append(Chain(body["name"], body.get("hook") if base else None,
                                                    body.get("prio") if base else None))
        elif kind == "rule":
            rules.setdefault((fam, body["chain"]), []).append(Rule(tuple(_norm_expr(x) for x in body["expr"])))
    out: Ruleset = {}
    for fam in present:
        out[fam] = Table(fam, table, tuple(sets.get(fam, ())),
                         tuple(replace(c, rules=tuple(rules.get((fam, c.name), ()))) for c in chains.get(fam, ())))
    return out


# ---------------------------------------------------------------- actual vs desired -> commands

def _ref(t: Table) -> Json:
    return {"family": t.family, "name": t.name}


def _elem_json(e: Element) -> Any:
    return {"concat": list(e)} if isinstance(e, tuple) else e


def _set_cmd(t: Table, s: NftSet) -> Json:
    body: Json = {"family": t.family, "table": t.name, "name": s.name,
                  "type": list(s.type) if isinstance(s.type, tuple) else s.type}
    if s.flags:
        body["flags"] = list(s.flags)
    if s.elements:
        body["elem"] = [_elem_json(e) for e in _sorted(s.elements)]
    return {"add": {"set": body}}


def _chain_cmd(t: Table, c: Chain) -> Json:
    body: Json = {"family": t.family, "table": t.name, "name": c.name}
    if c.hook:
        body.update(type="filter", hook=c.hook, prio=c.prio, policy="accept")
    return {"add": {"chain": body}}


def _rule_cmd(t: Table, chain: str, r: Rule) -> Json:
    return {"add": {"rule": {"family": t.family, "table": t.name, "chain": chain,
                             "expr": list(r.send if r.send is not None else r.expr)}}}


def _elements_cmd(op: str, t: Table, set_name: str, elems: Iterable[Element]) -> Json:
    return {op: {"element": {"family": t.family, "table": t.name, "name": set_name,
                             "elem": [_elem_json(e) for e in _sorted(elems)]}}}


def _sorted(elems: Iterable[Element]) -> list[Element]:
    def key(e: Element) -> tuple[Any, ...]:
        first = e[0] if isinstance(e, tuple) else e
        try:
            return (ip_address(first).version, int(ip_address(first)), str(e))
        except ValueError:
            return (9, 0, str(e))
    return sorted(elems, key=key)


def build(t: Table) -> list[Json]:
    """Commands creating table `t` from nothing, in keepalived's creation order."""
    cmds: list[Json] = [{"add": {"table": _ref(t)}}]
    base = [c for c in t.chains if c.hook]
    cmds += [_chain_cmd(t, c) for c in base]
    cmds += [_set_cmd(t, s) for s in t.sets]
    cmds += [_chain_cmd(t, c) for c in t.chains if not c.hook]
    for c in t.chains:
        cmds += [_rule_cmd(t, c.name, r) for r in c.rules]
    return cmds


def _grow(have: Table, want: Table) -> list[Json] | None:
    """Commands taking `have` to `want` by additions and element changes only, or None when
    that is not possible (a set, chain or rule differs: the table is then rebuilt)."""
    cmds: list[Json] = []
    have_sets = {s.name: s for s in have.sets}
    want_sets = {s.name: s for s in want.sets}
    if set(have_sets) - set(want_sets) or {c.name for c in have.chains} - {c.name for c in want.chains}:
        return None
    for c in want.chains:
        old = have.chain(c.name)
        if old is None:
            cmds.append(_chain_cmd(want, c))
        elif old.shape != c.shape:
            return None
    tail: list[Json] = []
    for s in want.sets:
        old_s = have_sets.get(s.name)
        if old_s is None:
            cmds.append(_set_cmd(want, s))
            continue
        if old_s.shape != s.shape:
            return None
        if "constant" in s.flags:
            if old_s.elements != s.elements:
                return None
            continue
        if old_s.elements - s.elements:
            tail.append(_elements_cmd("delete", want, s.name, old_s.elements - s.elements))
        if s.elements - old_s.elements:
            tail.append(_elements_cmd("add", want, s.name, s.elements - old_s.elements))
    for c in want.chains:
        old = have.chain(c.name)
        old_rules = old.rules if old else ()
        if old_rules != c.rules[:len(old_rules)]:
            return None
        cmds += [_rule_cmd(want, c.name, r) for r in c.rules[len(old_rules):]]
    return cmds + tail


def plan(actual: Ruleset, want: Ruleset) -> list[Json]:
    """One transaction taking the kernel's tables (ours only) to `want`: grow or fix elements
    in place when the existing structure is a prefix of keepalived's, else delete and
    recreate the table in the same transaction (no window without filtering)."""
    cmds: list[Json] = []
    for fam in FAMILIES:
        have, goal = actual.get(fam), want.get(fam)
        if goal is None:
            if have is not None:
                cmds.append({"delete": {"table": _ref(have)}})
            continue
        if have is None:
            cmds += build(goal)
            continue
        grown = _grow(have, goal)
        if grown is None:
            cmds.append({"delete": {"table": _ref(have)}})
            cmds += build(goal)
        else:
            cmds += grown
    return cmds


def layout_of(actual: Ruleset) -> Layout:
    """The layout a predecessor left (adoption on respawn): tables and link-local sets present."""
    t6 = actual.get("ip6")
    ll = tuple(s.name for s in t6.sets if s.name in (LL_INDEX, LL_NAME)) if t6 else ()
    return Layout(ip="ip" in actual, ip6=t6 is not None, link_local=ll)


# ---------------------------------------------------------------- the API for the vrrp child

class NftBackend(Protocol):
    """Port to the kernel: libnftables' JSON API (nft_libnftables.LibNftables), or a fake."""

    def list_table(self, family: str, name: str) -> Mapping[str, Any] | None:
        """`nft -j list table FAMILY NAME`, None when there is no such table."""

    def run(self, commands: list[Json]) -> None:
        """Apply the commands as one transaction; raise on failure."""


class NftFirewall:
    """keepalived's VRRP firewall for one vrrp child: start, per-instance state, reload, stop."""

    def __init__(self, backend: NftBackend):
        self.backend = backend
        self.settings: FirewallSettings | None = None
        self.addresses: dict[str, tuple[FilteredAddress, ...]] = {}
        self.masters: list[str] = []  # in the order they became MASTER (the layout grows so)
        self.layout = Layout()
        self.notes: list[str] = []  # for the runtime to log, in keepalived's words

    def _actual(self) -> Ruleset:
        assert self.settings is not None
        out: Ruleset = {}
        for fam in FAMILIES:
            listing = self.backend.list_table(fam, self.settings.table)
            if listing is not None:
                out.update(parse_listing(listing, self.settings.table))
        return out

    def _elements(self) -> list[FilteredAddress]:
        return [a for name in self.masters for a in self.addresses.get(name, ())]

    def _apply(self) -> None:
        if self.settings is None:
            return
        elements = self._elements()
        self.layout = self.layout.grow(elements)
        cmds = plan(self._actual(), desired(self.settings, self.layout, elements))
        if cmds:
            self.backend.run(cmds)

    def start(self, config: Any) -> None:
        """Adopt what a predecessor left: its tables stay (fixed if they differ), and the
        instances whose addresses are all in the sets count as MASTER until told otherwise."""
        self.settings = settings_from_config(config)
        if self.settings is None:
            return
        self.addresses = filtered_addresses(config, self.settings)
        actual = self._actual()
        self.layout = layout_of(actual)
        present = {(t.family, s.name, e) for t in actual.values() for s in t.sets for e in s.elements}
        self.masters = [n for n, addrs in self.addresses.items()
                        if addrs and all((a.family, a.set_name, a.element) in present for a in addrs)]
        self._apply()

    def instance_state(self, iname: str, state: str) -> None:
        """MASTER adds the instance's addresses to the sets; any other state removes them."""
        if self.settings is None:
            return
        if state == "MASTER":
            if iname in self.masters:
                return
            self.masters.append(iname)
        elif iname in self.masters:
            self.masters.remove(iname)
        else:
            return
        self._apply()

    def reload(self, config: Any) -> None:
        """New addresses for the current states; keepalived cannot change the table name at a
        reload, so the old name stays (a note says so)."""
        new = settings_from_config(config)
        if self.settings is not None and new is not None and new.table != self.settings.table:
            self.notes.append("Cannot change nftables table name at a reload - please restart keepalived")
            new = replace(new, table=self.settings.table)
        if new is None and self.settings is not None:
            new = self.settings  # the tables stay until stop, as in keepalived
        self.settings = new
        if new is None:
            return
        self.addresses = filtered_addresses(config, new)
        self.masters = [n for n in self.masters if n in self.addresses]
        self._apply()

    def stop(self) -> None:
        """Delete our tables (our name, ip and ip6), nothing else."""
        if self.settings is None:
            return
        actual = self._actual()
        cmds = [{"delete": {"table": _ref(t)}} for t in actual.values()]
        if cmds:
            self.backend.run(cmds)
        self.masters = []
        self.layout = Layout()
