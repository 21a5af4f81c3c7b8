"""master_priority and last_transition in keepalived.json / keepalived.data, keepalived-py
beside real keepalived 2.2.7 on one LAN (they used to be 0 in keepalived-py's dumps).

keepalived writes "master_priority" as the priority of the master it last accepted (0 if
none), "last_transition" as a wall-clock float with microseconds, and in keepalived.data
"Master priority" only while BACKUP and "Last transition = SEC.USEC (ctime with usec)".
Both implementations are dumped in the same situations and must agree."""

from __future__ import annotations

import json
import re
import signal
import time

import pytest

from tests.integration.test_vrrp_runtime_support import VIP, master_down, vrrp_conf, wait_until

pytestmark = [pytest.mark.root]

TOPO = """
bridge lan 192.0.2.0/24
router r1 lan
router r2 lan
"""
LAST_TRANSITION = re.compile(
    r"^   Last transition = (\d+)\.(\d{6}) \((\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d\.(\d{6}) \d{4})\)$", re.M)


def _dump(la, daemon, sig: int, name: str) -> str:
    path = la.workdir / f"{daemon.node}-{daemon.what}" / "tmp" / name
    if path.exists():
        path.unlink()
    daemon.signal(sig)
    assert wait_until(lambda: path.exists() and path.stat().st_size > 0, 5), f"no {name}"
    time.sleep(0.1)
    return path.read_text()


def dumps(la, daemon) -> tuple[dict, str]:
    j = json.loads(_dump(la, daemon, int(signal.SIGRTMIN) + 2, "keepalived.json"))[0]["data"]
    return j, _dump(la, daemon, signal.SIGUSR1, "keepalived.data")


def check_data(data: str, j: dict, backup_of: int | None) -> None:
    """keepalived.data says what keepalived.json says, in keepalived's form."""
    m = LAST_TRANSITION.search(data)
    assert m, data
    assert f"{m[1]}.{m[2]}" == f"{j['last_transition']:.6f}"
    assert m[2] == m[4]  # the same microseconds inside the ctime text
    if backup_of is None:
        assert "Master priority" not in data
    else:
        assert f"   Master priority = {backup_of}\n" in data


def test_master_priority_and_last_transition_as_keepalived(lab, implementation):
    ka = implementation("keepalived")
    py = implementation("keepalived-py", features=("vrrp",))
    la = lab(TOPO)
    vips = la.watch_addresses(["r1", "r2"])

    # keepalived MASTER (150), keepalived-py BACKUP (100)
    t0 = time.time()
    r1 = la.start_daemon("r1", ka, vrrp_conf(prio=150, router_id="r1"))
    up = vips.wait_for(VIP, node="r1", timeout=15)
    assert up is not None
    r2 = la.start_daemon("r2", py, vrrp_conf(prio=100, router_id="r2"))
    time.sleep(master_down(100) + 1)
    ka_j, ka_data = dumps(la, r1)
    py_j, py_data = dumps(la, r2)
    assert (ka_j["state"], py_j["state"]) == (2, 1)
    assert ka_j["master_priority"] == 0 and py_j["master_priority"] == 150
    assert type(ka_j["last_transition"]) is type(py_j["last_transition"]) is float
    # keepalived's MASTER transition: just before its VIP appeared; ours: BACKUP at start
    assert ka_j["last_transition"] == pytest.approx(up.wall, abs=0.5)
    assert t0 < py_j["last_transition"] < time.time()
    check_data(ka_data, ka_j, None)
    check_data(py_data, py_j, 150)

    # keepalived leaves (priority 0): keepalived-py takes over, keeps the priority it heard
    t1 = time.monotonic()
    la.terminate(r1)
    taken = vips.wait_for(VIP, node="r2", after=t1, timeout=10)
    assert taken is not None
    py_j, py_data = dumps(la, r2)
    assert py_j["state"] == 2 and py_j["master_priority"] == 150
    assert py_j["last_transition"] == pytest.approx(taken.wall, abs=0.5)
    check_data(py_data, py_j, None)

    # keepalived back as a lower-priority BACKUP: it records keepalived-py's priority
    r1.wait(10)
    r1b = la.start_daemon("r1", ka, vrrp_conf(prio=50, router_id="r1"), name="keepalived-2")
    time.sleep(master_down(50) + 1)
    ka_j, ka_data = dumps(la, r1b)
    assert ka_j["state"] == 1 and ka_j["master_priority"] == 100
    check_data(ka_data, ka_j, 100)
    assert r2.alive()
