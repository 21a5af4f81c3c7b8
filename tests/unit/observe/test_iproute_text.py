"""vroutes / vrules lines as keepalived 2.2.7's format_iproute() / format_iprule() print them.
The first route and rule are keepalived's own keepalived.json lines for the same config
lines (also compared live in test_observe_json_parity.py); the others follow its format
code (table, metric, to, priority)."""

from __future__ import annotations

from keepalived_py.config import load_text
from keepalived_py.observe.iproute_text import format_route, format_rule
from keepalived_py.vrrpd.plan import plan_all

CONF = """
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 61
    virtual_ipaddress {
        192.0.2.160/24
    }
    virtual_routes {
        198.51.100.0/24 via 192.0.2.254 dev eth0
        203.0.113.7/32 dev eth0 table 100 metric 5
    }
    virtual_rules {
        from 192.0.2.160 table 100
        to 203.0.113.0/24 priority 200 table 7
    }
}
"""


def _plan():
    (plan,) = plan_all(load_text(CONF).config).values()
    return plan


def test_routes_as_keepalived_prints_them():
    routes = [format_route(r) for r in _plan().routes.values()]
    assert routes[0] == "prepend 198.51.100.0/24 via inet 192.0.2.254 dev eth0 proto 18"
    assert routes[1] == "prepend 203.0.113.7 dev eth0 table 100 proto 18 metric 5"


def test_rules_as_keepalived_prints_them():
    rules = [format_rule(r) for r in _plan().rules.values()]
    assert rules[0] == "from 192.0.2.160 priority 16384 tos 0x0 protocol 18 lookup 100"
    assert rules[1] == "from all to 203.0.113.0/24 priority 200 tos 0x0 protocol 18 lookup 7"
