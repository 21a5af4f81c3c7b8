"""The reload preview says what the HUP then does (lab, one keepalived-py router).

r1 runs config A as MASTER of VI_1 (VIPs .100, .101; two virtual routes, two virtual
rules) and VI_2 (.200, a route and a rule). The preview of config B (VI_1 with .100 and
.102, another priority, one route and one rule kept, one of each replaced; VI_2 gone; VI_3
new with .210, a route and a rule) is asked with `keepalived-py -t -f B --reload-preview
--json`; then B replaces A and the daemon gets a HUP. What netlink then shows on r1 is
exactly the preview: the addresses added and removed (an address observer) and the routes
and rules added and removed (`ip monitor route rule`, kernel-generated routes of the
addresses aside); .100 and the kept route and rule are never touched; and a preview of the
running config says nothing changes.
"""

from __future__ import annotations

import ipaddress
import json
import re
import signal
import sys
import time
from datetime import datetime

import pytest

from tests.envcheck import need_netns
from tests.integration.test_vrrp_runtime_support import master_down, wait_until

pytestmark = [pytest.mark.root, pytest.mark.slow]

TOPO = """
bridge lan 192.0.2.0/24
router r1 lan
"""


def inst(name: str, vrid: int, prio: int, vips: tuple[str, ...], routes: tuple[str, ...] = (),
         rules: tuple[str, ...] = ()) -> str:
    def block(word: str, lines: tuple[str, ...]) -> str:
        body = "\n".join(f"        {v}" for v in lines)
        return f"    {word} {{\n{body}\n    }}\n" if lines else ""
    return (f"vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n"
            f"    priority {prio}\n    advert_int 1\n" + block("virtual_ipaddress", vips)
            + block("virtual_routes", routes) + block("virtual_rules", rules) + "}\n")


KEPT_ROUTE, KEPT_RULE = "198.51.100.0/24 via 192.0.2.254 dev eth0", "from 192.0.2.100 table 100 preference 1000"
A = ("global_defs {\n    router_id r1\n}\n"
     + inst("VI_1", 51, 150, ("192.0.2.100/24", "192.0.2.101/24"),
            (KEPT_ROUTE, "203.0.113.0/26 dev eth0"), (KEPT_RULE, "to 198.51.100.0/24 table 101 preference 1001"))
     + inst("VI_2", 52, 150, ("192.0.2.200/24",), ("203.0.113.64/26 dev eth0",), ("from 192.0.2.200 table 102 preference 1002",)))
B = ("global_defs {\n    router_id r1\n}\n"
     + inst("VI_1", 51, 140, ("192.0.2.100/24", "192.0.2.102/24"),
            (KEPT_ROUTE, "203.0.113.128/26 dev eth0 metric 5"), (KEPT_RULE, "to 203.0.113.0/24 table 101 preference 1001"))
     + inst("VI_3", 53, 150, ("192.0.2.210/24",), ("203.0.113.192/26 dev eth0",), ("from 192.0.2.210 table 103 preference 1003",)))


def preview(la, daemon, conf) -> dict:
    r = la.exec("r1", [sys.executable, "-m", "keepalived_py.cli", "-t", "-f", str(conf), "--reload-preview",
                       "--json", "-p", str(daemon.pidfiles.main)], check=False, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _net(text: str) -> str:
    return str(ipaddress.ip_network(text, strict=False)) if text != "all" else "all"


def route_fields(text: str) -> tuple:
    """A route by what names it (destination, gateway, device, metric, table), from the
    preview's text or an `ip monitor` line alike."""
    words = text.split()
    # `ip monitor` has bare words too (scope link): only the keyed fields count
    keyed = {w: words[i + 1] for i, w in enumerate(words[1:-1], 1) if w in ("via", "dev", "metric", "table")}
    return (_net(words[0]), keyed.get("via"), keyed.get("dev"), int(keyed.get("metric", 0)),
            keyed.get("table", "main"))


def rule_fields(text: str, pref: str | None = None) -> tuple:
    """A rule by selector, table and preference (the preview's `preference N table T`,
    `ip monitor`'s `N: ... lookup T`)."""
    words = text.split()
    keyed: dict[str, str] = {}
    for i, w in enumerate(words[:-1]):
        if w in ("from", "to", "table", "lookup", "preference", "pref", "priority"):
            keyed[{"lookup": "table", "pref": "preference", "priority": "preference"}.get(w, w)] = words[i + 1]
    return (_net(keyed.get("from", "all")), _net(keyed.get("to", "all")), keyed.get("table"),
            int(pref if pref is not None else keyed["preference"]))


MONITOR_LINE = re.compile(r"^\[(?P<ts>[^\]]+)\]\s*(?P<deleted>Deleted )?(?:(?P<pref>\d+):\s+)?(?P<rest>.+?)\s*$")


def monitor_events(text: str, after_wall: float) -> tuple[list, list]:
    """(route events, rule events) from `ip -ts monitor route rule` after `after_wall`, each
    (added, fields). Routes the kernel makes for addresses (local, broadcast, proto kernel)
    and IPv6 ones are not virtual_routes and are left out."""
    routes, rules = [], []
    for line in text.splitlines():
        m = MONITOR_LINE.match(line)
        if m is None or datetime.fromisoformat(m["ts"]).timestamp() < after_wall:
            continue
        added, rest = m["deleted"] is None, m["rest"]
        if m["pref"] is not None:
            rules.append((added, rule_fields(rest, m["pref"])))
            continue
        first = rest.split()[0]
        if first in ("local", "broadcast", "multicast", "anycast", "unreachable") or "proto kernel" in rest \
                or ":" in first:
            continue
        routes.append((added, route_fields(rest)))
    return routes, rules


def start_monitor(la):
    """`ip -ts monitor route rule` in r1, returned once it is seen to report (a marker route)."""
    mon = la.spawn("r1", ["ip", "-ts", "monitor", "route", "rule"], what="ip-monitor")

    def seen() -> bool:
        la.exec("r1", ["ip", "route", "replace", "192.0.2.250/32", "dev", "eth0"])
        la.exec("r1", ["ip", "route", "del", "192.0.2.250/32", "dev", "eth0"])
        return "192.0.2.250" in mon.output()
    assert wait_until(seen, 10), "ip monitor reports nothing"
    return mon


def want(p: dict, field: str, parse) -> set:
    return {parse(v) for i in p["instances"] for v in i.get(field, [])}


def test_preview_equals_what_the_hup_does(lab, implementation):
    need_netns()
    py = implementation("keepalived-py", features=("vrrp",))
    la = lab(TOPO)
    vips = la.watch_addresses(["r1"])
    d = la.start_daemon("r1", py, A)
    for ip in ("192.0.2.100", "192.0.2.101", "192.0.2.200"):
        assert vips.wait_for(ip, node="r1", timeout=20) is not None, ip
    mon = start_monitor(la)

    same = preview(la, d, d.conf)["vrrp"]
    assert same["changes"] is False and {i["action"] for i in same["instances"]} == {"unchanged"}

    new = la.workdir / "B.conf"
    new.write_text(B)
    p = preview(la, d, new)["vrrp"]
    actions = {i["name"]: i["action"] for i in p["instances"]}
    assert actions == {"VI_1": "changed", "VI_2": "removed", "VI_3": "added"}
    vi1 = next(i for i in p["instances"] if i["name"] == "VI_1")
    assert vi1["keeps_state"] is True and vi1["state"] == "MASTER"
    want_added = {v.split(" ")[0] for i in p["instances"] for v in i.get("vips_added", [])}
    want_removed = {v.split(" ")[0] for i in p["instances"] for v in i.get("vips_removed", [])}
    assert want_added == {"192.0.2.102/24", "192.0.2.210/24"}
    assert want_removed == {"192.0.2.101/24", "192.0.2.200/24"}
    routes_added, routes_removed = want(p, "routes_added", route_fields), want(p, "routes_removed", route_fields)
    rules_added, rules_removed = want(p, "rules_added", rule_fields), want(p, "rules_removed", rule_fields)
    assert {r[0] for r in routes_added} == {"203.0.113.128/26", "203.0.113.192/26"}
    assert {r[0] for r in routes_removed} == {"203.0.113.0/26", "203.0.113.64/26"}
    assert {r[1] for r in rules_added} == {"203.0.113.0/24", "all"} and len(rules_added) == 2
    assert {r[1] for r in rules_removed} == {"198.51.100.0/24", "all"} and len(rules_removed) == 2

    d.conf.write_text(B)
    t0, wall0 = time.monotonic(), time.time()
    d.signal(signal.SIGHUP)
    # VI_3 starts as BACKUP and takes over alone after its down interval
    for ip in ("192.0.2.102", "192.0.2.210"):
        assert vips.wait_for(ip, node="r1", after=t0, timeout=master_down(150) + 10) is not None, ip
    for ip in ("192.0.2.101", "192.0.2.200"):
        assert vips.wait_for(ip, node="r1", added=False, after=t0, timeout=10) is not None, ip
    assert wait_until(lambda: "203.0.113.192/26" in mon.output(), 10), "VI_3's route never came"
    time.sleep(1.0)
    events = [e for e in vips.events if e.mono >= t0 and e.node == "r1" and e.ifname == "eth0"]
    added = {e.address for e in events if e.added}
    removed = {e.address for e in events if not e.added}
    assert added == want_added and removed == want_removed, (added, removed)
    assert not [e for e in events if e.ip == "192.0.2.100"]  # kept: VI_1 stayed MASTER
    route_events, rule_events = monitor_events(mon.output(), wall0)
    assert {f for a, f in route_events if a} == routes_added, route_events
    assert {f for a, f in route_events if not a} == routes_removed, route_events
    assert {f for a, f in rule_events if a} == rules_added, rule_events
    assert {f for a, f in rule_events if not a} == rules_removed, rule_events
    assert len(route_events) == 4 and len(rule_events) == 4, (route_events, rule_events)  # nothing twice
    assert wait_until(lambda: preview(la, d, d.conf)["vrrp"]["changes"] is False, 10)
    la.terminate(d)
    la.terminate(mon)
