"""Reconcile our nftables tables: nft's JSON listing -> Ruleset, and actual vs desired -> one
transaction of nft JSON commands.

Why in place where possible: keepalived only ever appends to its tables and changes set
elements, so a kernel table whose sets, chains and rules are a prefix of the desired one is
grown and its elements are fixed by diff (a respawned child adopts its predecessor's table
untouched). Anything else (a changed priority, a foreign or missing rule) is fixed by deleting
and recreating the table in the same transaction, so there is no moment without filtering.
Only tables with our name in the ip and ip6 families are ever read or touched. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from ipaddress import ip_address
from typing import Any

from keepalived_py.net.nft_ruleset import (
    FAMILIES,
    LL_INDEX,
    LL_NAME,
    VIPS,
    VMAC,
    VMAC_MAP,
    Chain,
    Element,
    Json,
    Layout,
    NftSet,
    Rule,
    Ruleset,
    Table,
)

# ---------------------------------------------------------------- nft's JSON listing -> Ruleset


def _norm_elem(e: Any) -> Element:
    if isinstance(e, dict) and "elem" in e:  # {"elem": {"val": ..., "counter": ...}}
        e = e["elem"]["val"]
    if isinstance(e, dict) and "concat" in e:
        return tuple(str(x) for x in e["concat"])  # type: ignore[return-value]
    if isinstance(e, list):  # a map element: [key, data]
        return (str(e[0]), str(e[1]))
    return str(e)


def _norm_expr(x: Json) -> Json:
    return {"counter": None} if "counter" in x else x


def parse_listing(listing: Mapping[str, Any], table: str) -> Ruleset:
    """`nft -j list table ...` (or list ruleset) -> our tables, handles and counter values aside."""
    sets: dict[str, list[NftSet]] = {}
    chains: dict[str, list[Chain]] = {}
    rules: dict[tuple[str, str], list[Rule]] = {}
    present: list[str] = []
    for item in listing.get("nftables", []):
        if len(item) != 1:
            continue
        kind, body = next(iter(item.items()))
        if not isinstance(body, dict) or body.get("family") not in FAMILIES:
            continue
        fam = body["family"]
        if kind == "table":
            if body.get("name") == table:
                present.append(fam)
            continue
        if body.get("table") != table:
            continue
        if kind in ("set", "map"):
            typ = body["type"]
            sets.setdefault(fam, []).append(NftSet(
                body["name"], tuple(typ) if isinstance(typ, list) else typ, tuple(body.get("flags", ())),
                frozenset(_norm_elem(e) for e in body.get("elem", ())),
                body.get("map") if kind == "map" else None))
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


def layout_of(actual: Ruleset) -> Layout:
    """The layout a predecessor left (adoption on respawn), from its sets in creation order."""
    part_of = {VMAC_MAP: VMAC, VIPS: VIPS, LL_INDEX: LL_INDEX, LL_NAME: LL_NAME}
    parts: dict[str, tuple[str, ...]] = {}
    for fam, t in actual.items():
        seq: list[str] = []
        for s in t.sets:
            p = part_of.get(s.name)
            if p is not None and p not in seq:
                seq.append(p)
        parts[fam] = tuple(seq)
    return Layout(ip=parts.get("ip", ()), ip6=parts.get("ip6", ()))


# ---------------------------------------------------------------- actual vs desired -> commands

def _ref(t: Table) -> Json:
    return {"family": t.family, "name": t.name}


def _elem_json(s: NftSet, e: Element) -> Any:
    if isinstance(e, tuple):
        return list(e) if s.map else {"concat": list(e)}
    return e


def _sorted(elems: Iterable[Element]) -> list[Element]:
    def key(e: Element) -> tuple[Any, ...]:
        first = e[0] if isinstance(e, tuple) else e
        try:
            return (ip_address(first).version, int(ip_address(first)), str(e))
        except ValueError:
            return (9, 0, str(e))
    return sorted(elems, key=key)


def _set_cmd(t: Table, s: NftSet) -> Json:
    body: Json = {"family": t.family, "table": t.name, "name": s.name,
                  "type": list(s.type) if isinstance(s.type, tuple) else s.type}
    if s.map:
        body["map"] = s.map
    if s.flags:
        body["flags"] = list(s.flags)
    if s.elements:
        body["elem"] = [_elem_json(s, e) for e in _sorted(s.elements)]
    return {"add": {"map" if s.map else "set": body}}


def _chain_cmd(t: Table, c: Chain) -> Json:
    body: Json = {"family": t.family, "table": t.name, "name": c.name}
    if c.hook:
        body.update(type="filter", hook=c.hook, prio=c.prio, policy="accept")
    return {"add": {"chain": body}}


def _rule_cmd(t: Table, chain: str, r: Rule) -> Json:
    return {"add": {"rule": {"family": t.family, "table": t.name, "chain": chain,
                             "expr": list(r.send if r.send is not None else r.expr)}}}


def _elements_cmd(op: str, t: Table, s: NftSet, elems: Iterable[Element]) -> Json:
    return {op: {"element": {"family": t.family, "table": t.name, "name": s.name,
                             "elem": [_elem_json(s, e) for e in _sorted(elems)]}}}


def build(t: Table) -> list[Json]:
    """Commands creating table `t` from nothing, in keepalived's creation order."""
    cmds: list[Json] = [{"add": {"table": _ref(t)}}]
    cmds += [_chain_cmd(t, c) for c in t.chains if c.hook]
    cmds += [_set_cmd(t, s) for s in t.sets]
    cmds += [_chain_cmd(t, c) for c in t.chains if not c.hook]
    for c in t.chains:
        cmds += [_rule_cmd(t, c.name, r) for r in c.rules]
    return cmds


def _grow(have: Table, want: Table) -> list[Json] | None:
    """Commands taking `have` to `want` by additions and element changes only, or None when
    that is not possible (then the table is rebuilt)."""
    have_sets = {s.name: s for s in have.sets}
    if set(have_sets) - {s.name for s in want.sets} or \
            {c.name for c in have.chains} - {c.name for c in want.chains}:
        return None
    cmds: list[Json] = []
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
            tail.append(_elements_cmd("delete", want, s, old_s.elements - s.elements))
        if s.elements - old_s.elements:
            tail.append(_elements_cmd("add", want, s, s.elements - old_s.elements))
    for c in want.chains:
        old = have.chain(c.name)
        old_rules = old.rules if old else ()
        if old_rules != c.rules[:len(old_rules)]:
            return None
        cmds += [_rule_cmd(want, c.name, r) for r in c.rules[len(old_rules):]]
    return cmds + tail


def plan(actual: Ruleset, want: Ruleset) -> list[Json]:
    """One transaction taking the kernel's tables (ours only) to `want`."""
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
