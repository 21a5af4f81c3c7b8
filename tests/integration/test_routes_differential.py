"""Routes and rules as keepalived 2.2.7 installs them: keepalived and keepalived-py, each the
MASTER of the same configuration in its own namespace, leave the same `ip route show table
all` / `ip -6 route show table all` / `ip rule` / `ip -6 rule`; and the same again after a
higher priority peer (real keepalived on both sides) has made the instance BACKUP, and after
a graceful stop.

One configuration carries every route and rule option keepalived.conf(5) lists (table,
metric, src, via, dev, scope, protocol named and numeric, no_track, realms, tos, mtu and
the other metrics with lock, onlink, encap, expires, pref, from, blackhole / unreachable /
prohibit / throw, nexthops and "or", add / append; rule selectors, every action and the
preference keepalived gives a rule without one) plus
static routes and rules, so that one daemon start per implementation covers them all. The
two sides run at the same time in parallel namespaces with the same addresses.

Normalised, because it must differ: the remaining lifetime of an `expires` route and the
local routes of the interfaces' link-local addresses (their MACs are random).
"""

from __future__ import annotations

import re

import pytest

from conformance.lab.poll import settle, wait_until, watch

pytestmark = [pytest.mark.root, pytest.mark.slow]

# r* routers carry the configuration, q* are their higher priority peers; k: keepalived, p: keepalived-py
TOPOLOGY = """
bridge ka 192.0.2.0/24 2001:db8:0:1::/64
bridge kb 198.51.100.0/24 2001:db8:0:2::/64
bridge pa 192.0.2.0/24 2001:db8:0:1::/64
bridge pb 198.51.100.0/24 2001:db8:0:2::/64
router rk ka kb
router rp pa pb
router qk ka
router qp pa
"""

ROUTES = """
    203.0.113.0/28 dev eth0
    203.0.113.16/28 via 192.0.2.254 dev eth0
    src 192.0.2.1 to 203.0.113.32/28 via 192.0.2.254 dev eth0
    203.0.113.48/28 via 192.0.2.254 dev eth0 metric 10
    203.0.113.48/28 via 192.0.2.253 dev eth0 priority 20 table 100
    203.0.113.64/28 dev eth0 table 100
    203.0.113.64/28 dev eth0 table 1000
    203.0.113.80/28 dev eth0 scope link
    203.0.113.96/28 dev eth0 scope host table 100
    203.0.113.112/28 via 192.0.2.254 dev eth0 protocol bird
    203.0.113.128/28 via 192.0.2.254 dev eth0 protocol bird no_track
    203.0.113.144/28 via 192.0.2.254 dev eth0 protocol 99 no_track
    203.0.113.160/28 via 192.0.2.254 dev eth0 no_track
    203.0.113.176/28 via 192.0.2.254 dev eth0 realms 1/2
    203.0.113.176/28 via 192.0.2.254 dev eth0 realms 3 table 100
    203.0.113.192/28 via 192.0.2.254 dev eth0 tos 0x10
    203.0.113.208/28 via 192.0.2.254 dev eth0 mtu lock 1400 advmss 1300 rtt 300ms rttvar lock 100ms \
reordering 3 window 1000 cwnd 10 ssthresh lock 5 rto_min 250ms initcwnd 10 initrwnd 20 hoplimit 10 \
features ecn quickack 1 congctl lock cubic fastopen_no_cookie 1
    203.0.113.208/28 via 192.0.2.254 dev eth0 rtt 2 rttvar 1.5s table 100
    203.0.113.224/28 via 198.51.100.254 dev eth0 onlink
    blackhole 203.0.113.240/29
    unreachable 203.0.113.248/30
    prohibit 203.0.113.252/31
    throw 203.0.113.254/32 table 100
    203.0.113.255/32 nexthop via 192.0.2.254 dev eth0 weight 1 nexthop via 198.51.100.254 dev eth1 weight 3
    203.0.113.254/32 nexthop via 192.0.2.254 dev eth0 onlink realms 4 nexthop via 198.51.100.254 dev eth1
    198.51.100.128/25 via 192.0.2.254 or 192.0.2.253 dev eth0
    198.51.100.64/26 dev eth0 encap ip id 5 dst 192.0.2.9 ttl 3 tos 8
    198.51.100.32/27 dev eth0 encap mpls 100/200
    default via 192.0.2.254 dev eth0 table 200
    192.0.2.128/25 dev eth0 table 200 add
    192.0.2.0/25 dev eth0 table 200 append
    192.0.2.0/25 dev eth1 table 200 append
    2001:db8:100::/48 via 2001:db8:0:1::fe dev eth0
    2001:db8:101::/48 dev eth0 metric 5 pref high
    2001:db8:102::/48 via 2001:db8:0:1::fe dev eth0 from 2001:db8:0:1::/64
    2001:db8:103::/48 dev eth0 expires 1000
    2001:db8:104::/48 dev eth0 table 100 protocol bird no_track mtu 1400 hoplimit 5
    blackhole 2001:db8:105::/48
    2001:db8:106::/48 nexthop via 2001:db8:0:1::fe dev eth0 nexthop via 2001:db8:0:2::fe dev eth1
    default6 via 2001:db8:0:1::fe dev eth0 table 300
    2001:db8:107::/48 dev eth0 encap ip6 id 9 dst 2001:db8::9 hoplimit 4 tc 8
    2001:db8:108::/48 dev eth0 ttl-propagate enabled
"""

RULES = """
    from 192.0.2.100 table 100 preference 100
    to 203.0.113.0/24 lookup 1000 preference 101
    not from 198.51.100.0/24 table 100 preference 102
    from all fwmark 0x10/0xff table 100 preference 103
    iif eth0 oif eth1 table 100 preference 104
    from 192.0.2.101 tos 0x10 table 100 preference 105
    from 192.0.2.102 realms 1/2 table 100 preference 106
    from 192.0.2.103 table 100 suppress_prefixlength 8 preference 107
    from 192.0.2.104 table 100 suppress_ifgroup 1 preference 108
    from 192.0.2.105 uidrange 1000-2000 table 100 preference 109
    from 192.0.2.106 ipproto udp sport 10-20 dport 30-40 table 100 preference 110
    from 192.0.2.107 tunnel-id 7 table 100 preference 111
    from 192.0.2.108 goto 200 preference 112
    from 192.0.2.109 nop preference 113
    from 192.0.2.110 blackhole preference 114
    from 192.0.2.111 unreachable preference 115
    from 192.0.2.112 type prohibit preference 116
    from 192.0.2.113 l3mdev preference 117
    from 192.0.2.114 table 100 protocol 99 preference 118
    from 192.0.2.115 table 100 protocol 99 no_track preference 119
    from 192.0.2.116 table 100 no_track preference 120
    from 192.0.2.117 fwmark 7 table 100 preference 121
    to 192.0.2.0/24 table main preference 200
    from 2001:db8::/32 table 100 preference 100
    to 2001:db8:1::/48 fwmark 5 table 200 preference 101 no_track protocol 99
    from 2001:db8:2::/48 uidrange 0-10 prohibit preference 102
    from 2001:db8:3::/48 iif eth1 dport 53-53 ipproto 17 table 1000 preference 103
    from 192.0.2.118 table 100
    from 192.0.2.119 table 100
    from 2001:db8:4::/48 table 100
"""

STATIC = """
static_routes {
    203.0.113.0/29 dev eth1 table 400 metric 7
    203.0.113.8/29 via 198.51.100.254 dev eth1 table 400 protocol bird no_track
    2001:db8:200::/48 dev eth1 table 400
}
static_rules {
    from 198.51.100.200 table 400 preference 300
    from 2001:db8:200::/48 table 400 preference 300 no_track
}
"""


def config() -> str:
    return (f"global_defs {{\n    router_id r\n}}\n{STATIC}"
            "vrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n    virtual_router_id 51\n"
            "    priority 100\n    advert_int 1\n    virtual_ipaddress {\n        192.0.2.100/24\n    }\n"
            f"    virtual_routes {{{ROUTES}    }}\n    virtual_rules {{{RULES}    }}\n}}\n")


def peer_config() -> str:
    return ("global_defs {\n    router_id q\n}\nvrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n"
            "    virtual_router_id 51\n    priority 200\n    advert_int 1\n"
            "    virtual_ipaddress {\n        192.0.2.100/24\n    }\n}\n")


_EXPIRES = re.compile(r"expires \d+sec")


def tables(lab, node: str) -> dict[str, list[str]]:
    """The node's routes and rules, one entry per route (a multipath route's nexthop lines
    stay with it), normalised as the module docstring says."""
    out = {}
    for name, argv in (("route", ["ip", "-4", "route", "show", "table", "all"]),
                       ("route6", ["ip", "-6", "route", "show", "table", "all"]),
                       ("rule", ["ip", "-4", "rule"]), ("rule6", ["ip", "-6", "rule"])):
        entries: list[str] = []
        for line in lab.exec(node, argv).stdout.splitlines():
            if line.startswith(("\t", " ")) and entries:
                entries[-1] += "\n" + line.strip()
            elif not line.startswith("local fe80::"):
                entries.append(_EXPIRES.sub("expires Nsec", line.strip()))
        out[name] = entries
    return out


def settled(lab, node: str, timeout: float = 10.0) -> dict[str, list[str]]:
    """The node's tables once they have stopped changing for half a second."""
    return settle(lambda: tables(lab, node), timeout, quiet=0.5, step=0.1)


def converged(lab, node: str, want: dict[str, list[str]], timeout: float = 10.0) -> dict[str, list[str]]:
    """The node's tables once they equal `want`, or as they are when `timeout` runs out (a busy
    machine may take keepalived-py a moment longer to finish its netlink work)."""
    def same() -> dict[str, list[str]] | None:
        now = tables(lab, node)
        return now if now == want else None
    return watch(same, timeout, step=0.1) or tables(lab, node)


def _diff(ref: dict[str, list[str]], ours: dict[str, list[str]]) -> str:
    lines = []
    for name in ref:
        for entry in ref[name]:
            if entry not in ours[name]:
                lines.append(f"{name}: keepalived only: {entry}")
        for entry in ours[name]:
            if entry not in ref[name]:
                lines.append(f"{name}: keepalived-py only: {entry}")
        if not lines and ref[name] != ours[name]:
            lines.append(f"{name}: same entries in another order:\n  " + "\n  ".join(ours[name]))
    return "\n".join(lines)


def _state(log: str) -> str | None:
    """The state the daemon's log entered last ("MASTER", "BACKUP" ...)."""
    states = re.findall(r"\(VI_1\) Entering (\w+) STATE", log)
    return states[-1] if states else None


def test_routes_and_rules_as_keepalived(lab, implementation, keepalived_impl):
    py = implementation("keepalived-py", features=("vrrp",))
    ka = keepalived_impl
    la = lab(TOPOLOGY)
    rk = la.start_daemon("rk", ka, config())
    rp = la.start_daemon("rp", py, config())
    for d in (rk, rp):
        assert wait_until(lambda d=d: _state(d.output()) == "MASTER", 20), d.output()[-3000:]
    master_k = settled(la, "rk")
    master_p = converged(la, "rp", master_k)
    # the configuration reaches the kernel at all (keepalived's own result is the reference)
    assert any("proto bird" in e for e in master_k["route"]), master_k
    assert any("203.0.113.112/28 via 192.0.2.254 dev eth0 proto keepalived" in e for e in master_k["route"])
    assert master_p == master_k, _diff(master_k, master_p) + "\n" + rp.output()[-4000:]

    la.start_daemon("qk", ka, peer_config())
    la.start_daemon("qp", ka, peer_config())
    for d in (rk, rp):
        assert wait_until(lambda d=d: _state(d.output()) == "BACKUP", 20), d.output()[-3000:]
    backup_k = settled(la, "rk")
    backup_p = converged(la, "rp", backup_k)
    assert backup_k != master_k  # the virtual routes and rules went
    assert any("table 400" in e for e in backup_k["route"])  # the static ones stay
    assert backup_p == backup_k, _diff(backup_k, backup_p) + "\n" + rp.output()[-4000:]

    for d in (rk, rp):  # a graceful stop: what each leaves behind
        assert d.stop(15) is not None, d.output()[-3000:]
    stopped_k = settled(la, "rk")
    stopped_p = converged(la, "rp", stopped_k)
    assert stopped_p == stopped_k, _diff(stopped_k, stopped_p) + "\n" + rp.output()[-4000:]
