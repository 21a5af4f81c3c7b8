"""`keepalived-py --status` shows a failover within one second of it (lab, two routers).

r2 (BACKUP, 100) is polled every 0.1 s over its control socket with the request
`--status` sends (core.control.query: the same socket, command and reply, without a
Python start per poll), r1 (MASTER, 150) stops. Every view the daemon built more than
1 s after r2's VIP appeared (netlink observer time) says MASTER, and one built within that
second already does. Then `keepalived-py --status` itself (table and --json), started the
moment the VIP appears, prints MASTER (a Python start alone can take a second of wall
time on a loaded 2-core CI machine, hence the looser bound on when it prints).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from keepalived_py.core.control import control_path, query
from tests.envcheck import need_netns
from tests.integration.test_metrics_failover import TOPO, start_pair
from tests.integration.test_vrrp_runtime_support import VIP, wait_until

pytestmark = [pytest.mark.root, pytest.mark.slow]


def status(pidfile, *extra: str) -> subprocess.CompletedProcess[str]:
    # the control socket is a file: no need to enter the router's namespace
    return subprocess.run([sys.executable, "-m", "keepalived_py.cli", "--status", "-p", str(pidfile), *extra],
                          capture_output=True, text=True, timeout=20)


def test_status_shows_a_failover_within_one_second(lab, implementation):
    need_netns()
    py = implementation("keepalived-py", features=("vrrp",))
    la = lab(TOPO)
    vips, r1, r2 = start_pair(la, py, extra=())
    pid2 = r2.pidfiles.main
    # a loaded machine may take seconds to start the vrrp child: its instances show then
    assert wait_until(lambda: "VI_1" in status(pid2).stdout, 15)
    first = status(pid2)
    assert first.returncode == 0, first.stderr
    header, row = first.stdout.splitlines()[:2]
    assert header.split()[:2] == ["INSTANCE", "STATE"]
    assert row.split()[:4] == ["VI_1", "BACKUP", "100", "(100)"]

    seen: list[tuple[float, float, str]] = []  # (view built, reply read, state)
    stop = threading.Event()
    path = control_path(None, str(pid2))

    def poller():
        while not stop.is_set():
            try:
                view = query(path, {"cmd": "status"})["view"]
            except OSError:
                continue
            seen.append((view["parent"]["time"], time.time(), view["vrrp"]["instances"][0]["state"]))
            time.sleep(0.1)
    threads = [threading.Thread(target=poller, daemon=True)]
    threads[0].start()
    assert wait_until(lambda: sum(1 for *_, s in seen if s == "BACKUP") >= 3, 20), seen
    t0 = time.monotonic()
    la.terminate(r1)
    taken = vips.wait_for(VIP, node="r2", after=t0, timeout=10)
    assert taken is not None
    cli = status(pid2, "--json")
    printed = time.time()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join(20)
    assert any(s == "BACKUP" and built < taken.wall for built, _, s in seen), seen
    late = [s for built, _, s in seen if built > taken.wall + 1.0]
    assert late and set(late) == {"MASTER"}, seen
    fresh = [built for built, _, s in seen if s == "MASTER" and built <= taken.wall + 1.0]
    assert fresh, [(round(b - taken.wall, 2), round(p - taken.wall, 2), s) for b, p, s in seen]
    assert cli.returncode == 0 and json.loads(cli.stdout)["vrrp"]["instances"][0]["state"] == "MASTER"
    assert printed - taken.wall < 3.0
    table = status(pid2)
    assert table.stdout.splitlines()[1].split()[:4] == ["VI_1", "MASTER", "100", "(100)"]
    la.terminate(r2)
