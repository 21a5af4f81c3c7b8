"""The demo's addresses and each router's keepalived.conf (pure: text in, text out).

Only RFC 5737 documentation addresses, inside namespaces the demo made. The timers are the
shortest keepalived accepts for a readable story: adverts every second, a health check
every second with one retry.
"""

from __future__ import annotations

from dataclasses import dataclass

NET = "192.0.2.0/24"
VIP = "192.0.2.100"
VPORT = 80
WEB_PORT = 8080
CLIENT = "192.0.2.10"
ROUTERS = {"r1": "192.0.2.2", "r2": "192.0.2.3"}
WEBS = {"web1": "192.0.2.11", "web2": "192.0.2.12", "web3": "192.0.2.13"}
PRIORITY = {"r1": 150, "r2": 100}
VRID = 51
ADVERT_INT = 1

# the health check (HTTP_GET): look every DELAY_LOOP s; a failure is retried RETRY times,
# DELAY_BEFORE_RETRY s apart, each try waiting at most CONNECT_TIMEOUT s
DELAY_LOOP, RETRY, DELAY_BEFORE_RETRY, CONNECT_TIMEOUT = 1, 1, 1, 1


@dataclass(frozen=True)
class Bounds:
    """What the protocols promise, in seconds, for the narration and the checks."""

    master_down: float      # a BACKUP takes over this long after the MASTER's last advert
    check_out: float        # a dead web server leaves the pool within this
    check_in: float         # and comes back within this once it answers


def bounds(backup: str = "r2") -> Bounds:
    """RFC 3768 5.1: Master_Down_Interval = 3 x Advertisement_Interval + Skew_Time, with
    Skew_Time = (256 - Priority) / 256. The check bound is one loop plus every try."""
    skew = (256 - PRIORITY[backup]) / 256
    out = DELAY_LOOP + (RETRY + 1) * CONNECT_TIMEOUT + RETRY * DELAY_BEFORE_RETRY
    return Bounds(3 * ADVERT_INT + skew, out, DELAY_LOOP + CONNECT_TIMEOUT)


def router_conf(router: str) -> str:
    """keepalived.conf for `router`: one VRRP instance holding the VIP and a virtual_server
    on it (round robin, NAT) with an HTTP check of each web server. The same text runs on
    real keepalived; only the priority and router_id differ between r1 and r2."""
    reals = "".join(f"""
    real_server {addr} {WEB_PORT} {{
        weight 1
        HTTP_GET {{
            url {{
                path /
                status_code 200
            }}
            connect_timeout {CONNECT_TIMEOUT}
            retry {RETRY}
            delay_before_retry {DELAY_BEFORE_RETRY}
        }}
    }}""" for addr in WEBS.values())
    state = "MASTER" if PRIORITY[router] == max(PRIORITY.values()) else "BACKUP"
    return f"""global_defs {{
    router_id {router}
}}

vrrp_instance VI_DEMO {{
    state {state}
    interface eth0
    virtual_router_id {VRID}
    priority {PRIORITY[router]}
    advert_int {ADVERT_INT}
    virtual_ipaddress {{
        {VIP}/24
    }}
}}

virtual_server {VIP} {VPORT} {{
    delay_loop {DELAY_LOOP}
    lb_algo rr
    lb_kind NAT
    protocol TCP
{reals}
}}
"""
