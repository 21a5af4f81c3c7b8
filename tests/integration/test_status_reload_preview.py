"""The reload preview says what the HUP then does (lab, one keepalived-py router).

r1 runs config A as MASTER of VI_1 (VIPs .100, .101) and VI_2 (.200). The preview of
config B (VI_1 with .100 and .102 and another priority, VI_2 gone, VI_3 new with .210) is
asked with `keepalived-py -t -f B --reload-preview --json`; then B replaces A and the
daemon gets a HUP. The addresses netlink then shows added and removed on r1 are exactly the
preview's VIPs added and removed; .100 (in both) is never touched; and a preview of the
running config says nothing changes.
"""

from __future__ import annotations

import json
import signal
import sys
import time

import pytest

from tests.envcheck import need_netns
from tests.integration.test_vrrp_runtime_support import master_down, wait_until

pytestmark = [pytest.mark.root, pytest.mark.slow]

TOPO = """
bridge lan 192.0.2.0/24
router r1 lan
"""


def inst(name: str, vrid: int, prio: int, vips: tuple[str, ...]) -> str:
    lines = "\n".join(f"        {v}" for v in vips)
    return (f"vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n"
            f"    priority {prio}\n    advert_int 1\n    virtual_ipaddress {{\n{lines}\n    }}\n}}\n")


A = ("global_defs {\n    router_id r1\n}\n" + inst("VI_1", 51, 150, ("192.0.2.100/24", "192.0.2.101/24"))
     + inst("VI_2", 52, 150, ("192.0.2.200/24",)))
B = ("global_defs {\n    router_id r1\n}\n" + inst("VI_1", 51, 140, ("192.0.2.100/24", "192.0.2.102/24"))
     + inst("VI_3", 53, 150, ("192.0.2.210/24",)))


def preview(la, daemon, conf) -> dict:
    r = la.exec("r1", [sys.executable, "-m", "keepalived_py.cli", "-t", "-f", str(conf), "--reload-preview",
                       "--json", "-p", str(daemon.pidfiles.main)], check=False, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_preview_equals_what_the_hup_does(lab, implementation):
    need_netns()
    py = implementation("keepalived-py", features=("vrrp",))
    la = lab(TOPO)
    vips = la.watch_addresses(["r1"])
    d = la.start_daemon("r1", py, A)
    for ip in ("192.0.2.100", "192.0.2.101", "192.0.2.200"):
        assert vips.wait_for(ip, node="r1", timeout=20) is not None, ip

    same = preview(la, d, d.conf)["vrrp"]
    assert same["changes"] is False and {i["action"] for i in same["instances"]} == {"unchanged"}

    new = la.workdir / "B.conf"
    new.write_text(B)
    p = preview(la, d, new)["vrrp"]
    actions = {i["name"]: i["action"] for i in p["instances"]}
    assert actions == {"VI_1": "changed", "VI_2": "removed", "VI_3": "added"}
    want_added = {v.split(" ")[0] for i in p["instances"] for v in i.get("vips_added", [])}
    want_removed = {v.split(" ")[0] for i in p["instances"] for v in i.get("vips_removed", [])}
    assert want_added == {"192.0.2.102/24", "192.0.2.210/24"}
    assert want_removed == {"192.0.2.101/24", "192.0.2.200/24"}

    d.conf.write_text(B)
    t0 = time.monotonic()
    d.signal(signal.SIGHUP)
    # VI_3 starts as BACKUP and takes over alone after its down interval
    for ip in ("192.0.2.102", "192.0.2.210"):
        assert vips.wait_for(ip, node="r1", after=t0, timeout=master_down(150) + 10) is not None, ip
    for ip in ("192.0.2.101", "192.0.2.200"):
        assert vips.wait_for(ip, node="r1", added=False, after=t0, timeout=10) is not None, ip
    time.sleep(1.0)
    events = [e for e in vips.events if e.mono >= t0 and e.node == "r1" and e.ifname == "eth0"]
    added = {e.address for e in events if e.added}
    removed = {e.address for e in events if not e.added}
    assert added == want_added and removed == want_removed, (added, removed)
    assert not [e for e in events if e.ip == "192.0.2.100"]  # kept: VI_1 stayed MASTER
    assert wait_until(lambda: preview(la, d, d.conf)["vrrp"]["changes"] is False, 10)
    la.terminate(d)
