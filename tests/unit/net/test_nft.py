"""The pure half of net/nft.py: which addresses keepalived filters, its layout, the reconcile plan.

The golden listings are `nft -j list ruleset` in a namespace running real keepalived 2.2.7 with
STRICT_CONF below: after both instances entered MASTER, and after both left it; and with
VMAC_CONF after both entered MASTER.
"""

from __future__ import annotations

import json
from typing import Any

from keepalived_py.config import load_text
from keepalived_py.net.nft import (
    NftFirewall,
    filtered_addresses,
    settings_from_config,
    vmac_members,
)
from keepalived_py.net.nft_reconcile import layout_of, parse_listing, plan
from keepalived_py.net.nft_ruleset import (
    LL_INDEX,
    LL_NAME,
    VIPS,
    VMAC,
    FirewallSettings,
    Layout,
    Member,
    desired,
)

STRICT_CONF = """
global_defs {
  router_id A
  vrrp_strict
}
vrrp_instance V4 {
  state BACKUP
  interface kpnA0
  virtual_router_id 51
  priority 100
  advert_int 1
  version 3
  virtual_ipaddress {
    192.0.2.100/24
    192.0.2.101/32 dev lo
  }
  virtual_ipaddress_excluded {
    2001:db8::100/64
    fe80::100/64
  }
}
vrrp_instance V6 {
  state BACKUP
  interface kpnA0
  virtual_router_id 52
  priority 100
  advert_int 1
  virtual_ipaddress {
    fe80::52/64
    2001:db8::52/64
  }
}
"""

KEEPALIVED_MASTER = json.loads(r"""{"nftables": [
{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
{"table": {"family": "ip", "name": "keepalived", "handle": 1}},
{"set": {"family": "ip", "name": "vips", "table": "keepalived", "type": "ipv4_addr", "handle": 3, "elem": ["192.0.2.100", "192.0.2.101"]}},
{"chain": {"family": "ip", "table": "keepalived", "name": "out", "handle": 1, "type": "filter", "hook": "output", "prio": -1, "policy": "accept"}},
{"chain": {"family": "ip", "table": "keepalived", "name": "in", "handle": 2, "type": "filter", "hook": "input", "prio": -1, "policy": "accept"}},
{"rule": {"family": "ip", "table": "keepalived", "chain": "out", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"rule": {"family": "ip", "table": "keepalived", "chain": "in", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"table": {"family": "ip6", "name": "keepalived", "handle": 2}},
{"set": {"family": "ip6", "name": "vips", "table": "keepalived", "type": "ipv6_addr", "handle": 5, "elem": ["2001:db8::52", "2001:db8::100"]}},
{"set": {"family": "ip6", "name": "neighbor-discovery", "table": "keepalived", "type": "icmpv6_type", "handle": 6, "flags": ["constant"], "elem": ["nd-neighbor-solicit", "nd-neighbor-advert"]}},
{"set": {"family": "ip6", "name": "vips_link_local", "table": "keepalived", "type": ["ipv6_addr", "iface_index"], "handle": 13, "elem": [{"concat": ["fe80::100", "kpnA0"]}, {"concat": ["fe80::52", "kpnA0"]}]}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "out", "handle": 1, "type": "filter", "hook": "output", "prio": -1, "policy": "accept"}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "in", "handle": 2, "type": "filter", "hook": "input", "prio": -1, "policy": "accept"}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "in_link_local", "handle": 3}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "out_link_local", "handle": 4}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 9, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": "@neighbor-discovery"}}, {"accept": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 10, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": {"prefix": {"addr": "fe80::", "len": 10}}}}, {"goto": {"target": "out_link_local"}}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 12, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": "@neighbor-discovery"}}, {"accept": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in", "handle": 8, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": {"prefix": {"addr": "fe80::", "len": 10}}}}, {"goto": {"target": "in_link_local"}}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in", "handle": 11, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in_link_local", "handle": 14, "expr": [{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip6", "field": "daddr"}}, {"meta": {"key": "iif"}}]}, "right": "@vips_link_local"}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out_link_local", "handle": 15, "expr": [{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip6", "field": "saddr"}}, {"meta": {"key": "oif"}}]}, "right": "@vips_link_local"}}, {"drop": null}]}}
]}""")

KEEPALIVED_BACKUP = json.loads(r"""{"nftables": [
{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
{"table": {"family": "ip", "name": "keepalived", "handle": 1}},
{"set": {"family": "ip", "name": "vips", "table": "keepalived", "type": "ipv4_addr", "handle": 3}},
{"chain": {"family": "ip", "table": "keepalived", "name": "out", "handle": 1, "type": "filter", "hook": "output", "prio": -1, "policy": "accept"}},
{"chain": {"family": "ip", "table": "keepalived", "name": "in", "handle": 2, "type": "filter", "hook": "input", "prio": -1, "policy": "accept"}},
{"rule": {"family": "ip", "table": "keepalived", "chain": "out", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"rule": {"family": "ip", "table": "keepalived", "chain": "in", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"table": {"family": "ip6", "name": "keepalived", "handle": 2}},
{"set": {"family": "ip6", "name": "vips", "table": "keepalived", "type": "ipv6_addr", "handle": 5}},
{"set": {"family": "ip6", "name": "neighbor-discovery", "table": "keepalived", "type": "icmpv6_type", "handle": 6, "flags": ["constant"], "elem": ["nd-neighbor-solicit", "nd-neighbor-advert"]}},
{"set": {"family": "ip6", "name": "vips_link_local", "table": "keepalived", "type": ["ipv6_addr", "iface_index"], "handle": 13}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "out", "handle": 1, "type": "filter", "hook": "output", "prio": -1, "policy": "accept"}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "in", "handle": 2, "type": "filter", "hook": "input", "prio": -1, "policy": "accept"}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "in_link_local", "handle": 3}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "out_link_local", "handle": 4}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 9, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": "@neighbor-discovery"}}, {"accept": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 10, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": {"prefix": {"addr": "fe80::", "len": 10}}}}, {"goto": {"target": "out_link_local"}}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 12, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": "@neighbor-discovery"}}, {"accept": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in", "handle": 8, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": {"prefix": {"addr": "fe80::", "len": 10}}}}, {"goto": {"target": "in_link_local"}}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in", "handle": 11, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in_link_local", "handle": 14, "expr": [{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip6", "field": "daddr"}}, {"meta": {"key": "iif"}}]}, "right": "@vips_link_local"}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out_link_local", "handle": 15, "expr": [{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip6", "field": "saddr"}}, {"meta": {"key": "oif"}}]}, "right": "@vips_link_local"}}, {"drop": null}]}}
]}""")


VMAC_CONF = """
global_defs {
  router_id A
  vrrp_strict
}
vrrp_instance V4 {
  state BACKUP
  interface kpnA0
  use_vmac
  virtual_router_id 51
  priority 100
  advert_int 1
  version 3
  virtual_ipaddress {
    192.0.2.100/24
  }
  virtual_ipaddress_excluded {
    2001:db8::100/64
  }
}
vrrp_instance V6 {
  state BACKUP
  interface kpnA0
  use_vmac vrrp6.52
  dont_track_primary
  virtual_router_id 52
  priority 100
  advert_int 1
  virtual_ipaddress {
    fe80::52/64
    2001:db8::52/64
  }
}
"""

KEEPALIVED_VMAC_MASTER = json.loads(r"""{"nftables": [
{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
{"table": {"family": "ip", "name": "keepalived", "handle": 3}},
{"map": {"family": "ip", "name": "vmac_map", "table": "keepalived", "type": "iface_index", "handle": 2, "map": "iface_index", "elem": [["vrrp.51", "kpnA0"]]}},
{"set": {"family": "ip", "name": "vips", "table": "keepalived", "type": "ipv4_addr", "handle": 5, "elem": ["192.0.2.100"]}},
{"chain": {"family": "ip", "table": "keepalived", "name": "out", "handle": 1, "type": "filter", "hook": "output", "prio": -1, "policy": "accept"}},
{"chain": {"family": "ip", "table": "keepalived", "name": "in", "handle": 4, "type": "filter", "hook": "input", "prio": -1, "policy": "accept"}},
{"rule": {"family": "ip", "table": "keepalived", "chain": "out", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "protocol"}}, "right": "igmp"}}, {"match": {"op": "==", "left": {"meta": {"key": "oifkind"}}, "right": "macvlan"}}, {"dup": {"addr": {"payload": {"protocol": "ip", "field": "daddr"}}, "dev": {"map": {"key": {"meta": {"key": "oif"}}, "data": "@vmac_map"}}}}, {"drop": null}]}},
{"rule": {"family": "ip", "table": "keepalived", "chain": "out", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"rule": {"family": "ip", "table": "keepalived", "chain": "in", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"table": {"family": "ip6", "name": "keepalived", "handle": 4}},
{"map": {"family": "ip6", "name": "vmac_map", "table": "keepalived", "type": "iface_index", "handle": 2, "map": "iface_index", "elem": [["vrrp.51", "kpnA0"], ["vrrp6.52", "kpnA0"]]}},
{"set": {"family": "ip6", "name": "vmac_set", "table": "keepalived", "type": "iface_index", "handle": 3, "elem": ["vrrp.51", "vrrp6.52"]}},
{"set": {"family": "ip6", "name": "vips", "table": "keepalived", "type": "ipv6_addr", "handle": 9, "elem": ["2001:db8::52", "2001:db8::100"]}},
{"set": {"family": "ip6", "name": "neighbor-discovery", "table": "keepalived", "type": "icmpv6_type", "handle": 10, "flags": ["constant"], "elem": ["nd-neighbor-solicit", "nd-neighbor-advert"]}},
{"set": {"family": "ip6", "name": "vips_link_local_name", "table": "keepalived", "type": ["ipv6_addr", "ifname"], "handle": 17, "elem": [{"concat": ["fe80::52", "vrrp6.52"]}]}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "out", "handle": 1, "type": "filter", "hook": "output", "prio": -1, "policy": "accept"}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "in", "handle": 6, "type": "filter", "hook": "input", "prio": -1, "policy": "accept"}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "in_link_local", "handle": 7}},
{"chain": {"family": "ip6", "table": "keepalived", "name": "out_link_local", "handle": 8}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": "mld2-listener-report"}}, {"match": {"op": "==", "left": {"meta": {"key": "oifkind"}}, "right": "macvlan"}}, {"dup": {"addr": {"payload": {"protocol": "ip6", "field": "daddr"}}, "dev": {"map": {"key": {"meta": {"key": "oif"}}, "data": "@vmac_map"}}}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": "nd-router-solicit"}}, {"match": {"op": "==", "left": {"meta": {"key": "oifkind"}}, "right": "macvlan"}}, {"match": {"op": "==", "left": {"meta": {"key": "oif"}}, "right": "@vmac_set"}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 13, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": "@neighbor-discovery"}}, {"accept": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 14, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": {"prefix": {"addr": "fe80::", "len": 10}}}}, {"goto": {"target": "out_link_local"}}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out", "handle": 16, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in", "handle": 11, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": "@neighbor-discovery"}}, {"accept": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in", "handle": 12, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": {"prefix": {"addr": "fe80::", "len": 10}}}}, {"goto": {"target": "in_link_local"}}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in", "handle": 15, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "@vips"}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "in_link_local", "handle": 18, "expr": [{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip6", "field": "daddr"}}, {"meta": {"key": "iifname"}}]}, "right": "@vips_link_local_name"}}, {"drop": null}]}},
{"rule": {"family": "ip6", "table": "keepalived", "chain": "out_link_local", "handle": 19, "expr": [{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip6", "field": "saddr"}}, {"meta": {"key": "oifname"}}]}, "right": "@vips_link_local_name"}}, {"drop": null}]}}
]}""")


def _config(text: str) -> Any:
    return load_text(text).config


def _inst(body: str, glob: str = "", name: str = "VI") -> str:
    g = f"global_defs {{\n{glob}\n}}\n" if glob else ""
    return g + f"vrrp_instance {name} {{\n interface eth0\n virtual_router_id 7\n priority 100\n{body}\n}}\n"


# ---------------------------------------------------------------- settings and addresses

def test_no_firewall_without_nftables_or_a_filtering_instance():
    assert settings_from_config(_config(_inst("virtual_ipaddress {\n 192.0.2.1\n}"))) is None


def test_strict_turns_nftables_on_with_keepalived_defaults():
    s = settings_from_config(_config(STRICT_CONF))
    assert s == FirewallSettings(table="keepalived", priority=-1, counters=False, ifindex=False)


def test_global_knobs_shape_the_settings():
    glob = "nftables kpy_t\nnftables_priority 5\nnftables_counters\nnftables_ifindex"
    s = settings_from_config(_config(_inst("virtual_ipaddress {\n 192.0.2.1\n}", glob)))
    assert s == FirewallSettings(table="kpy_t", priority=5, counters=True, ifindex=True)


def test_vrrp_iptables_means_nftables_with_the_default_table():
    s = settings_from_config(_config(_inst("virtual_ipaddress {\n 192.0.2.1\n}", "vrrp_iptables")))
    assert s is not None and s.table == "keepalived"


def test_accepting_and_owner_instances_are_not_filtered():
    cfg = _config(_inst("accept\nvirtual_ipaddress {\n 192.0.2.1\n}", "vrrp_strict\nvrrp_version 3")
                  + "vrrp_instance OWN {\n interface eth0\n virtual_router_id 8\n priority 255\n no_accept\n"
                    " virtual_ipaddress {\n 192.0.2.2\n }\n}\n")
    s = settings_from_config(cfg)
    assert s is not None  # the owner's no_accept turns nftables on (vrrp_complete_instance)
    assert filtered_addresses(cfg, s) == {"VI": (), "OWN": ()}


def test_strict_vrrpv2_never_accepts():
    cfg = _config(_inst("accept\nvirtual_ipaddress {\n 192.0.2.1\n}", "vrrp_strict"))
    s = settings_from_config(cfg)
    assert s is not None
    assert filtered_addresses(cfg, s) == {"VI": (Member("ip", "vips", "192.0.2.1"),)}


def test_vips_then_evips_with_link_local_by_ifindex():
    cfg = _config(STRICT_CONF)
    got = filtered_addresses(cfg, settings_from_config(cfg))
    assert got["V4"] == (Member("ip", "vips", "192.0.2.100"), Member("ip", "vips", "192.0.2.101"),
                         Member("ip6", "vips", "2001:db8::100"),
                         Member("ip6", LL_INDEX, ("fe80::100", "kpnA0")))
    assert got["V6"][0] == Member("ip6", LL_INDEX, ("fe80::52", "kpnA0"))


def test_link_local_by_name_only_with_dont_track_primary_on_own_interface():
    body = ("no_accept\ndont_track_primary\nvirtual_ipaddress {\n fe80::1/64\n fe80::2/64 dev lo\n"
            " fe80::3/64 dev lo no_track\n}")
    cfg = _config(_inst(body))
    got = filtered_addresses(cfg, settings_from_config(cfg))["VI"]
    assert [(a.set_name, a.element) for a in got] == [
        (LL_NAME, ("fe80::1", "eth0")), (LL_INDEX, ("fe80::2", "lo")), (LL_NAME, ("fe80::3", "lo"))]
    cfg = _config(_inst(body, "nftables_ifindex"))
    assert {a.set_name for a in filtered_addresses(cfg, settings_from_config(cfg))["VI"]} == {LL_INDEX}


# ---------------------------------------------------------------- the layout against keepalived's

def _strict_elements(*names: str) -> list[Member]:
    cfg = _config(STRICT_CONF)
    addrs = filtered_addresses(cfg, settings_from_config(cfg))
    return [a for n in names for a in addrs[n]]


def test_master_ruleset_is_keepalived_s():
    elements = _strict_elements("V4", "V6")
    want = desired(FirewallSettings(), Layout().grow(elements), elements)
    assert parse_listing(KEEPALIVED_MASTER, "keepalived") == want


def test_after_leaving_master_the_tables_stay_with_empty_sets():
    layout = Layout().grow(_strict_elements("V4", "V6"))
    assert parse_listing(KEEPALIVED_BACKUP, "keepalived") == desired(FirewallSettings(), layout, [])
    assert layout_of(parse_listing(KEEPALIVED_BACKUP, "keepalived")) == layout


def test_no_table_before_any_master():
    assert desired(FirewallSettings(), Layout(), []) == {}


def test_counters_and_priority_reach_every_rule_and_base_chain():
    elements = _strict_elements("V6")
    got = desired(FirewallSettings(priority=5, counters=True), Layout().grow(elements), elements)
    assert set(got) == {"ip6"}
    for chain in got["ip6"].chains:
        assert chain.prio == (5 if chain.hook else None)
        assert all({"counter": None} in r.expr for r in chain.rules)


def test_neighbor_discovery_rule_is_sent_with_keepalived_s_nexthdr_match():
    t = desired(FirewallSettings(), Layout(ip6=(VIPS,)), [])["ip6"]
    nd = t.chain("in").rules[0]
    assert nd.send is not None and nd.send[0]["match"]["left"] == {"payload": {"protocol": "ip6", "field": "nexthdr"}}
    assert nd.expr == nd.send[1:]


def test_layout_grows_link_local_sets_in_first_use_order():
    a = Member("ip6", LL_NAME, ("fe80::1", "eth0"))
    b = Member("ip6", LL_INDEX, ("fe80::2", "lo"))
    lay = Layout().grow([a]).grow([b, a])
    assert lay == Layout(ip=(), ip6=(VIPS, LL_NAME, LL_INDEX))
    rules = desired(FirewallSettings(), lay, [])["ip6"].chain("in_link_local").rules
    assert [r.expr[0]["match"]["right"] for r in rules] == ["@vips_link_local_name", "@vips_link_local"]


# ---------------------------------------------------------------- reconcile plans

def test_plan_from_nothing_builds_in_keepalived_s_order():
    elements = _strict_elements("V4")
    cmds = plan({}, desired(FirewallSettings(), Layout().grow(elements), elements))
    kinds = [(next(iter(c)), next(iter(next(iter(c.values()))))) for c in cmds]
    assert kinds[0] == ("add", "table") and ("delete", "table") not in kinds
    first_rule = kinds.index(("add", "rule"))
    assert all(k != ("add", "rule") for k in kinds[:first_rule])
    assert {k for k in kinds[first_rule:]} <= {("add", "rule"), ("add", "table"), ("add", "chain"), ("add", "set")}


def test_plan_is_empty_when_the_kernel_matches():
    elements = _strict_elements("V4", "V6")
    want = desired(FirewallSettings(), Layout().grow(elements), elements)
    assert plan(parse_listing(KEEPALIVED_MASTER, "keepalived"), want) == []


def test_leaving_master_deletes_elements_only():
    layout = Layout().grow(_strict_elements("V4", "V6"))
    cmds = plan(parse_listing(KEEPALIVED_MASTER, "keepalived"), desired(FirewallSettings(), layout, []))
    assert cmds and all("delete" in c and "element" in c["delete"] for c in cmds)
    deleted = {(c["delete"]["element"]["family"], c["delete"]["element"]["name"],
                json.dumps(e)) for c in cmds for e in c["delete"]["element"]["elem"]}
    assert ("ip6", LL_INDEX, json.dumps({"concat": ["fe80::52", "kpnA0"]})) in deleted
    assert ("ip", "vips", '"192.0.2.100"') in deleted


def test_a_new_link_local_kind_is_added_without_rebuilding():
    base = _strict_elements("V4")[:3]  # no link-local yet
    have = desired(FirewallSettings(), Layout().grow(base), base)
    more = _strict_elements("V4")
    cmds = plan(have, desired(FirewallSettings(), Layout().grow(more), more))
    ops = [(next(iter(c)), next(iter(next(iter(c.values()))))) for c in cmds]
    assert ("delete", "table") not in ops
    assert ops.count(("add", "rule")) == 2 and ("add", "set") in ops


def test_a_different_priority_rebuilds_the_table_in_one_transaction():
    have = parse_listing(KEEPALIVED_BACKUP, "keepalived")
    want = desired(FirewallSettings(priority=5), layout_of(have), [])
    cmds = plan(have, want)
    assert cmds[0] == {"delete": {"table": {"family": "ip", "name": "keepalived"}}}
    assert {"delete": {"table": {"family": "ip6", "name": "keepalived"}}} in cmds
    assert sum(1 for c in cmds if "add" in c and "table" in c["add"]) == 2


def test_a_foreign_rule_in_our_chain_is_fixed():
    have = parse_listing(KEEPALIVED_BACKUP, "keepalived")
    t = have["ip"]
    bad_in = t.chain("in")
    rules = bad_in.rules + (bad_in.rules[0],)
    from dataclasses import replace
    have["ip"] = replace(t, chains=tuple(replace(c, rules=rules) if c.name == "in" else c for c in t.chains))
    cmds = plan(have, desired(FirewallSettings(), layout_of(have), []))
    assert {"delete": {"table": {"family": "ip", "name": "keepalived"}}} in cmds
    assert not any("delete" in c and c["delete"].get("table", {}).get("family") == "ip6" for c in cmds)


# ---------------------------------------------------------------- NftFirewall over a fake kernel

class FakeKernel:
    """nf_tables for one namespace, enough for our commands: a JSON listing per table."""

    def __init__(self) -> None:
        self.tables: dict[tuple[str, str], dict[str, Any]] = {}
        self.transactions: list[list[dict[str, Any]]] = []

    def list_table(self, family: str, name: str):
        t = self.tables.get((family, name))
        if t is None:
            return None
        items: list[dict[str, Any]] = [{"table": {"family": family, "name": name, "handle": 1}}]
        for s in t["sets"].values():
            body = {k: v for k, v in s.items() if k not in ("elem", "kind")}
            if s["elem"]:
                body["elem"] = list(s["elem"])
            items.append({s["kind"]: body})
        items += [{"chain": c} for c in t["chains"].values()]
        items += [{"rule": r} for r in t["rules"]]
        return {"nftables": items}

    def run(self, commands):
        self.transactions.append(commands)
        for cmd in commands:
            (op, obj), = cmd.items()
            (kind, body), = obj.items()
            key = (body["family"], body.get("table", body.get("name")))
            if kind == "table":
                if op == "add":
                    self.tables.setdefault(key, {"sets": {}, "chains": {}, "rules": []})
                else:
                    del self.tables[key]
                continue
            t = self.tables[key]
            if kind in ("set", "map"):
                t["sets"][body["name"]] = {**body, "elem": [e for e in body.get("elem", ())], "kind": kind}
            elif kind == "chain":
                t["chains"][body["name"]] = body
            elif kind == "rule":
                expr = [x for x in body["expr"] if x.get("match", {}).get("right") != "ipv6-icmp"]
                t["rules"].append({**body, "expr": expr})
            elif kind == "element":
                elems = t["sets"][body["name"]]["elem"]
                for e in body["elem"]:
                    if op == "add":
                        assert e not in elems, "NLM_F_EXCL: element exists"
                        elems.append(e)
                    else:
                        elems.remove(e)


def test_firewall_follows_master_and_backup_then_stop_removes_only_ours():
    kernel = FakeKernel()
    kernel.tables[("inet", "other")] = {"sets": {}, "chains": {}, "rules": []}
    fw = NftFirewall(kernel)
    cfg = _config(STRICT_CONF)
    fw.start(cfg)
    assert set(kernel.tables) == {("inet", "other")}  # nothing before a MASTER
    fw.instance_state("V4", "BACKUP")
    assert kernel.transactions == []
    fw.instance_state("V4", "MASTER")
    fw.instance_state("V6", "MASTER")
    assert parse_listing(kernel.list_table("ip", "keepalived"), "keepalived")["ip"] == \
        parse_listing(KEEPALIVED_MASTER, "keepalived")["ip"]
    assert parse_listing(kernel.list_table("ip6", "keepalived"), "keepalived")["ip6"] == \
        parse_listing(KEEPALIVED_MASTER, "keepalived")["ip6"]
    fw.instance_state("V4", "BACKUP")
    fw.instance_state("V6", "FAULT")
    assert parse_listing(kernel.list_table("ip6", "keepalived"), "keepalived")["ip6"] == \
        parse_listing(KEEPALIVED_BACKUP, "keepalived")["ip6"]
    fw.stop()
    assert set(kernel.tables) == {("inet", "other")}


def test_respawn_adopts_the_predecessor_s_table_without_touching_it():
    kernel = FakeKernel()
    cfg = _config(STRICT_CONF)
    first = NftFirewall(kernel)
    first.start(cfg)
    first.instance_state("V4", "MASTER")
    n = len(kernel.transactions)
    second = NftFirewall(kernel)  # the child crashed and was respawned
    second.start(cfg)
    assert len(kernel.transactions) == n and second.masters == ["V4"]
    second.instance_state("V4", "BACKUP")
    assert kernel.list_table("ip", "keepalived")["nftables"][1]["set"].get("elem") is None


def test_reload_drops_removed_addresses_and_keeps_the_table_name():
    kernel = FakeKernel()
    fw = NftFirewall(kernel)
    fw.start(_config(STRICT_CONF))
    fw.instance_state("V4", "MASTER")
    new = STRICT_CONF.replace("    192.0.2.101/32 dev lo\n", "").replace("vrrp_strict", "vrrp_strict\n  nftables other")
    fw.reload(_config(new))
    assert fw.notes == ["Cannot change nftables table name at a reload - please restart keepalived"]
    vips = kernel.list_table("ip", "keepalived")["nftables"][1]["set"]
    assert vips["elem"] == ["192.0.2.100"]
    assert kernel.list_table("ip", "other") is None


# ---------------------------------------------------------------- VMACs

def test_vmac_members_follow_family_other_family_evips_and_disable_local_igmp():
    cfg = _config(VMAC_CONF)
    assert vmac_members(cfg) == [
        Member("ip", "vmac_map", ("vrrp.51", "kpnA0")),
        Member("ip6", "vmac_map", ("vrrp.51", "kpnA0")), Member("ip6", "vmac_set", "vrrp.51"),
        Member("ip6", "vmac_map", ("vrrp6.52", "kpnA0")), Member("ip6", "vmac_set", "vrrp6.52")]
    cfg = _config(VMAC_CONF.replace("vrrp_strict", "vrrp_strict\n  disable_local_igmp"))
    assert [m.element for m in vmac_members(cfg)] == [("vrrp6.52", "kpnA0"), "vrrp6.52"]


def test_vips_of_a_vmac_instance_live_on_the_vmac():
    cfg = _config(VMAC_CONF)
    got = filtered_addresses(cfg, settings_from_config(cfg))["V6"]
    assert got[0] == Member("ip6", LL_NAME, ("fe80::52", "vrrp6.52"))


def test_use_vmac_alone_turns_nftables_on():
    cfg = _config(_inst("use_vmac\nvirtual_ipaddress {\n 192.0.2.1\n}"))
    assert settings_from_config(cfg) == FirewallSettings()


def test_vmac_rules_come_first_when_the_vmac_exists_before_any_master():
    cfg = _config(VMAC_CONF)
    members = vmac_members(cfg) + _members(cfg, "V4", "V6")
    layout = Layout().grow(vmac_members(cfg)).grow(members)
    assert layout.parts("ip") == (VMAC, VIPS)
    assert parse_listing(KEEPALIVED_VMAC_MASTER, "keepalived") == desired(FirewallSettings(), layout, members)
    assert layout_of(parse_listing(KEEPALIVED_VMAC_MASTER, "keepalived")) == layout


def test_firewall_with_vmacs_builds_their_part_at_start():
    kernel = FakeKernel()
    fw = NftFirewall(kernel)
    fw.start(_config(VMAC_CONF))
    assert set(kernel.tables) == {("ip", "keepalived"), ("ip6", "keepalived")}
    fw.instance_state("V4", "MASTER")
    fw.instance_state("V6", "MASTER")
    for fam in ("ip", "ip6"):
        assert parse_listing(kernel.list_table(fam, "keepalived"), "keepalived")[fam] == \
            parse_listing(KEEPALIVED_VMAC_MASTER, "keepalived")[fam]
    fw.stop()
    assert kernel.tables == {}


def _members(cfg: Any, *names: str) -> list[Member]:
    addrs = filtered_addresses(cfg, settings_from_config(cfg))
    return [a for n in names for a in addrs[n]]


def test_reload_to_accept_removes_the_masters_elements_and_keeps_the_table():
    kernel = FakeKernel()
    fw = NftFirewall(kernel)
    fw.start(_config(STRICT_CONF))
    fw.instance_state("V4", "MASTER")
    accepting = STRICT_CONF.replace("  vrrp_strict\n", "")  # no strict: both instances accept
    assert settings_from_config(_config(accepting)) is None
    fw.reload(_config(accepting))
    assert parse_listing(kernel.list_table("ip", "keepalived"), "keepalived")["ip"] == \
        parse_listing(KEEPALIVED_BACKUP, "keepalived")["ip"]


def test_respawn_drops_elements_of_an_instance_only_partly_present():
    kernel = FakeKernel()
    cfg = _config(STRICT_CONF)
    first = NftFirewall(kernel)
    first.start(cfg)
    first.instance_state("V4", "MASTER")
    kernel.run([{"delete": {"element": {"family": "ip", "table": "keepalived", "name": "vips",
                                        "elem": ["192.0.2.101"]}}}])
    second = NftFirewall(kernel)
    second.start(cfg)
    assert second.masters == []
    for fam in ("ip", "ip6"):
        got = parse_listing(kernel.list_table(fam, "keepalived"), "keepalived")[fam]
        assert all(not s.elements for s in got.sets if s.name.startswith("vips")), got
