"""ha_suspend beside real keepalived 2.2.7 in the qemu guest: a virtual server whose address
is not on the host starts with its checker deactivated, is activated when the address is
added and suspended when it goes; both daemons (-D) write the same healthchecker and
"Netlink reflector reports" lines in the same order."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from conformance.scenarios.ipvs_check_story import SETUP
from tests.envcheck import keepalived_binary
from tests.guestcheck import need_guest

pytestmark = [pytest.mark.root, pytest.mark.guest, pytest.mark.slow, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[2]

CONF = """global_defs {
    router_id kpysusp
}
virtual_server 192.0.2.20 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    ha_suspend
    real_server 192.0.2.11 8080 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
}
"""

DRIVER = r'''
import json, os, signal, socket, subprocess, sys, time
impls = json.loads(sys.argv[1]); conf = sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.11", 8080)); s.listen(64)
def table():
    return subprocess.run(["ipvsadm", "-S", "-n"], capture_output=True, text=True).stdout
for name, argv in impls:
    subprocess.run(["ipvsadm", "-C"])
    d = f"/tmp/susp-{name}"; os.makedirs(d + "/tmp", exist_ok=True)
    p = subprocess.Popen(argv + ["-n", "-l", "-D", "-C", "-f", conf, "-p", d + "/k.pid", "-c", d + "/c.pid"],
                         stdout=open(d + "/log", "w"), stderr=subprocess.STDOUT, env=dict(os.environ, TMPDIR=d + "/tmp"))
    end = time.time() + 120
    while time.time() < end and "192.0.2.20:80" not in table():
        time.sleep(0.3)
    time.sleep(4)
    subprocess.run(["ip", "addr", "add", "192.0.2.20/24", "dev", "kpyst0"])
    time.sleep(5)
    subprocess.run(["ip", "addr", "del", "192.0.2.20/24", "dev", "kpyst0"])
    time.sleep(5)
    p.send_signal(signal.SIGTERM); rc = p.wait(60)
    print("KPY-SUSP " + json.dumps({"impl": name, "rc": rc, "log": open(d + "/log").read()}), flush=True)
'''

PATTERN = re.compile(r"(\w+ healthchecker for service .*|Netlink reflector reports IP 192\.0\.2\.20 .*)$")


def lines(log: str) -> list[str]:
    out = []
    for line in log.splitlines():
        m = PATTERN.search(line)
        if m:
            out.append(m.group(1))
    return out


def test_ha_suspend_lines_match_keepalived():
    need_guest()
    ka = keepalived_binary()
    from conformance.guest import run_in_guest

    impls = [("keepalived", [ka]), ("keepalived-py", [str(REPO / ".venv" / "bin" / "keepalived-py")])]
    cmd = f"python3 -u $KPY_SCRATCH/susp.py {shlex.quote(json.dumps(impls))} $KPY_SCRATCH/k.conf"
    res = run_in_guest([SETUP, cmd], timeout=600, files={"susp.py": DRIVER, "k.conf": CONF}, keep_going=True)
    got = {}
    for line in res.steps[1].output.splitlines():
        if line.startswith("KPY-SUSP "):
            r = json.loads(line[len("KPY-SUSP "):])
            got[r["impl"]] = r
    assert set(got) == {"keepalived", "keepalived-py"}, res.stdout[-3000:]
    ka_lines, py_lines = lines(got["keepalived"]["log"]), lines(got["keepalived-py"]["log"])
    assert ka_lines and ka_lines[0].startswith("Deactivating"), got["keepalived"]["log"]
    assert py_lines == ka_lines, f"keepalived: {ka_lines}\nours: {py_lines}\n{got['keepalived-py']['log'][-3000:]}"
    assert got["keepalived-py"]["rc"] == 0
