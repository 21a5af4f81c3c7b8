"""keepalived.json from keepalived-py equals keepalived 2.2.7's, in both roles, after the same events.

One LAN, two routers and an injector host. The same configuration runs twice: keepalived
as the high-priority router and keepalived-py as the low one, then the other way round.
Each run goes through the same script: both up (high MASTER, low BACKUP); three bad
adverts injected on the wire (TTL 64, a wrong password, another interval); the high router
stops (its priority-0 advert: the low one takes over); the high router comes back and
preempts (the low one releases). At each step both routers write keepalived.json.

For every role and step, keepalived's file and ours must have the same key tree (keys in
the same order), the same value types, and the same values, except what depends on when
the dump was taken (last_transition, and advert counters where adverts keep flowing).
"""

from __future__ import annotations

import json
import signal
import sys
import time
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from keepalived_py.vrrp.packet import (
    VRRP_MCAST4,
    AuthType,
    VrrpAdvert,
    build_ipv4,
    encode,
    password_bytes,
)
from tests.envcheck import keepalived_binary, need_netns
from tests.integration.test_vrrp_runtime_support import master_down, wait_until

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TOPO = """
bridge lan 192.0.2.0/24 2001:db8:0:1::/64
router r1 lan
router r2 lan
host inj lan
"""
VIP = "192.0.2.100"

CONF = """global_defs {{
    router_id {rid}
}}
vrrp_script chk {{
    script "/bin/true"
    interval 1
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {prio}
    advert_int 1
    garp_master_delay 1
    authentication {{
        auth_type PASS
        auth_pass secret
    }}
    virtual_ipaddress {{
        192.0.2.100/24
        192.0.2.101
    }}
    virtual_ipaddress_excluded {{
        192.0.2.150/24
        2001:db8:0:1::150/64
    }}
    track_script {{
        chk
    }}
    virtual_routes {{
        198.51.100.0/24 via 192.0.2.254 dev eth0
    }}
    virtual_rules {{
        from 192.0.2.100 table 100
    }}
    notify_master "/bin/true master"
}}
"""

#: values that depend on when a dump is taken, not on what happened: the transition time,
#: adverts sent (one a second while MASTER), adverts received where a master is heard
TIMING = {"last_transition", "advert_sent"}
FLOWING = {"advert_rcvd"}


def bad_adverts(src: str) -> list[bytes]:
    """TTL 64, a wrong password, another interval: each dropped, the first two counted."""
    vips = (IPv4Address("192.0.2.100"), IPv4Address("192.0.2.101"))

    def adv(**kw) -> VrrpAdvert:
        base = dict(version=2, vrid=51, priority=50, advert_int_cs=100, addresses=vips,
                    auth_type=AuthType.PASS, auth_data=password_bytes("secret"))
        base.update(kw)
        return VrrpAdvert(**base)

    s = IPv4Address(src)
    return [build_ipv4(s, VRRP_MCAST4, encode(adv()), ttl=64),
            build_ipv4(s, VRRP_MCAST4, encode(adv(auth_data=password_bytes("guess")))),
            build_ipv4(s, VRRP_MCAST4, encode(adv(advert_int_cs=200)))]


def inject(la) -> None:
    la.exec("inj", ["ip", "route", "replace", "224.0.0.0/4", "dev", "eth0"])
    lines = "".join(d.hex() + "\n" for d in bad_adverts(la.addr("inj")))
    la.exec("inj", [sys.executable, "-m", "conformance.packets.stats_differential", "--inject", "eth0"],
            input=lines, cwd=str(ROOT))


def dump(la, daemon) -> dict:
    path = la.workdir / f"{daemon.node}-{daemon.what}" / "tmp" / "keepalived.json"
    path.unlink(missing_ok=True)
    daemon.signal(int(signal.SIGRTMIN) + 2)
    assert wait_until(lambda: path.exists() and path.stat().st_size > 0, 5), f"no JSON from {daemon.what}"
    time.sleep(0.1)
    return json.loads(path.read_text())[0]


def data_sections(la, daemon) -> dict[str, list[str]]:
    """keepalived.data's sections by title, times masked, keepalived's socket fds out."""
    path = la.workdir / f"{daemon.node}-{daemon.what}" / "tmp" / "keepalived.data"
    path.unlink(missing_ok=True)
    daemon.signal(signal.SIGUSR1)
    assert wait_until(lambda: path.exists() and "Topology" in path.read_text(), 5), f"no data from {daemon.what}"
    time.sleep(0.2)
    out: dict[str, list[str]] = {}
    current: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith("------<"):
            current = out.setdefault(line, [])
            continue
        if line.startswith(("   Last transition", "   Read timeout")):
            line = line.split(" = ")[0] + " = *"
        if not line.startswith("   fd_in "):
            current.append(line)
    return out


TOPOLOGY, SCRIPTS = "------< VRRP Topology >------", "------< VRRP Scripts >------"


def stats_file(la, daemon, sig: int) -> list[str]:
    """keepalived.stats after `sig` (USR2, or STATS_CLEAR: printed, then cleared)."""
    path = la.workdir / f"{daemon.node}-{daemon.what}" / "tmp" / "keepalived.stats"
    path.unlink(missing_ok=True)
    daemon.signal(sig)
    assert wait_until(lambda: path.exists() and "Priority Zero" in path.read_text(), 5), f"no stats from {daemon.what}"
    time.sleep(0.1)
    return path.read_text().splitlines()


def scenario(la, high, low) -> dict[str, dict]:
    """The scripted sequence with `high` on r1 (150) and `low` on r2 (100); the dumps by role."""
    vips = la.watch_addresses(["r1", "r2"])
    out: dict[str, dict] = {}
    h = la.start_daemon("r1", high, CONF.format(rid="r1", prio=150), name=f"{high.name}-h")
    assert vips.wait_for(VIP, node="r1", timeout=15) is not None
    lo = la.start_daemon("r2", low, CONF.format(rid="r2", prio=100), name=f"{low.name}-l")
    time.sleep(master_down(100) + 1)
    # a loaded CI machine may start the Python daemon late: wait until it has heard the master
    assert wait_until(lambda: dump(la, lo)["data"]["master_priority"] == 150, 10)
    inject(la)
    time.sleep(0.5)
    out["master"], out["backup"] = dump(la, h), dump(la, lo)
    out["master_data"], out["backup_data"] = data_sections(la, h), data_sections(la, lo)
    t = time.monotonic()
    la.terminate(h)
    assert vips.wait_for(VIP, node="r2", after=t, timeout=10) is not None
    time.sleep(0.5)
    out["took_over"] = dump(la, lo)
    h.wait(10)
    t = time.monotonic()
    h2 = la.start_daemon("r1", high, CONF.format(rid="r1", prio=150), name=f"{high.name}-h2")
    assert vips.wait_for(VIP, node="r1", after=t, timeout=15) is not None
    time.sleep(1.0)
    out["released"], out["preempted"] = dump(la, lo), dump(la, h2)
    # keepalived.stats, then STATS_CLEAR (prints, then zeroes), then the counters again
    out["stats"] = stats_file(la, lo, signal.SIGUSR2)
    out["stats_clear"] = stats_file(la, lo, int(signal.SIGRTMAX) - 1)
    out["cleared"] = dump(la, lo)
    for d in (lo, h2):
        la.terminate(d)
    vips.stop()
    return out


def differences(ka: dict, py: dict, role: str) -> list[str]:
    problems = []
    for part in ("data", "stats"):
        if list(ka[part]) != list(py[part]):
            problems.append(f"{role} {part} keys: keepalived {list(ka[part])} ours {list(py[part])}")
        for key, want in ka[part].items():
            got = py[part].get(key)
            if type(got) is not type(want):
                problems.append(f"{role} {part}.{key}: type {type(want).__name__} vs ours {type(got).__name__}")
            elif key in TIMING or (key in FLOWING and role != "master"):
                continue
            elif got != want:
                problems.append(f"{role} {part}.{key}: keepalived {want!r} ours {got!r}")
    return problems


def test_json_dumps_equal_keepalived_in_both_roles(lab, implementation):
    need_netns()
    keepalived_binary()
    ka = implementation("keepalived")
    py = implementation("keepalived-py", features=("vrrp",))
    la = lab(TOPO)
    ka_high = scenario(la, ka, py)
    py_high = scenario(la, py, ka)
    # keepalived's own view of the script, so a failure here is ours, not the script's
    assert ka_high["master"]["data"]["state"] == 2 and ka_high["backup"]["data"]["state"] == 1
    assert ka_high["master"]["stats"]["ip_ttl_err"] == 1
    assert ka_high["master"]["stats"]["auth_failure"] == 1
    assert ka_high["took_over"]["stats"]["pri_zero_rcvd"] == 1
    assert ka_high["released"]["stats"]["release_master"] == 1
    problems = []
    for role in ("master", "preempted"):
        problems += differences(ka_high[role], py_high[role], role)
    for role in ("backup", "took_over", "released"):
        problems += differences(py_high[role], ka_high[role], role)  # the low router's: keepalived's is py_high's
    assert problems == [], "\n".join(problems)
    # keepalived.data's VRRP Topology and VRRP Scripts, line for line (but times and fds)
    for section in (TOPOLOGY, SCRIPTS):
        assert py_high["master_data"][section] == ka_high["master_data"][section]
        assert ka_high["backup_data"][section] == py_high["backup_data"][section]
    # keepalived.stats of the low router (released): same lines but the advert counts
    # (which keep moving); STATS_CLEAR writes the same and then every counter is 0
    for key in ("stats", "stats_clear"):
        want, got = py_high[key], ka_high[key]
        assert len(want) == len(got) and want[:2] == got[:2]
        assert [w for w, g in zip(want, got, strict=True) if w != g and not w.startswith(("    Received", "    Sent"))] \
            == [], (want, got)
    for run in (ka_high, py_high):
        cleared = run["cleared"]["stats"]
        assert cleared["release_master"] == 0 and cleared["pri_zero_rcvd"] == 0 and cleared["ip_ttl_err"] == 0
        assert run["stats"][4] == "  Became master: 1"
