"""The reload preview's IPVS part equals what the HUP then does to the KERNEL's IPVS table
(issue 19, acceptance 4), in the qemu guest (one boot).

keepalived-py (-C) runs OLD: service :80 with real servers .11 (weight 3) and .12 (weight 2),
service :81 with .13. The preview of NEW (.11 reweighted to 5, .12 removed, .14 added; :81
removed; :82 added with .13 and another scheduler) is asked over the control socket
(`-t -f NEW --reload-preview --json`); the table must not move. Then NEW replaces OLD and
the daemon gets a HUP. `ipvsadm -S -n` before, with the preview's changes applied to it,
must equal `ipvsadm -S -n` after: every service and real server, scheduler and weight.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.guestcheck import need_guest

pytestmark = [pytest.mark.root, pytest.mark.guest, pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]


def vs(port: int, sched: str, reals: tuple[tuple[int, int], ...]) -> str:
    rs = "".join(f"    real_server 192.0.2.{n} 8080 {{\n        weight {w}\n    }}\n" for n, w in reals)
    return (f"virtual_server 192.0.2.10 {port} {{\n    delay_loop 2\n    lb_algo {sched}\n    lb_kind NAT\n"
            f"    protocol TCP\n{rs}}}\n")


HEAD = "global_defs {\n    router_id kpypreview\n}\n"
OLD = HEAD + vs(80, "rr", ((11, 3), (12, 2))) + vs(81, "rr", ((13, 1),))
NEW = HEAD + vs(80, "rr", ((11, 5), (14, 1))) + vs(82, "wlc", ((13, 1),))

DRIVER = r'''
import json, os, shutil, signal, subprocess, sys, time
py, old, new = sys.argv[1], sys.argv[2], sys.argv[3]
d = "/tmp/preview"; os.makedirs(d + "/tmp", exist_ok=True)
conf = d + "/k.conf"; shutil.copy(old, conf)
env = dict(os.environ, TMPDIR=d + "/tmp")
out = {}
def table():
    return subprocess.run(["ipvsadm", "-S", "-n"], capture_output=True, text=True).stdout
def wait(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred(table()):
            return True
        time.sleep(0.5)
    return False
p = subprocess.Popen([py, "-n", "-l", "-C", "-f", conf, "-p", d + "/k.pid", "-c", d + "/c.pid"],
                     stdout=open(d + "/log", "w"), stderr=subprocess.STDOUT, env=env)
out["up"] = wait(lambda t: t.count("-a ") == 3 and os.path.exists(d + "/k.ctl"), 120)
time.sleep(3)
out["before"] = table()
pv = subprocess.run([py, "-t", "-f", new, "--reload-preview", "--json", "-p", d + "/k.pid"],
                    capture_output=True, text=True, env=env, timeout=300)
out["preview_rc"], out["preview"], out["preview_err"] = pv.returncode, pv.stdout, pv.stderr[-2000:]
out["after_preview"] = table()
shutil.copy(new, conf)
p.send_signal(signal.SIGHUP)
out["reloaded"] = wait(lambda t: "192.0.2.10:82" in t and "192.0.2.10:81" not in t and "192.0.2.14" in t, 120)
time.sleep(3)
out["after"] = table()
p.send_signal(signal.SIGTERM); p.wait(30)
out["log"] = open(d + "/log").read()[-3000:]
print("KPY-PREVIEW " + json.dumps(out), flush=True)
'''

SETUP = ("ip link add kpypv0 type dummy && ip addr add 192.0.2.1/24 dev kpypv0 && ip link set kpypv0 up && "
         "ip link set lo up")


def parse_table(text: str) -> dict[str, dict]:
    """`ipvsadm -S -n` as {service: {"scheduler": s, "dests": {real server: weight}}}, keyed
    the way the preview writes them ("TCP 192.0.2.10:80", "192.0.2.11:8080")."""
    proto = {"-t": "TCP", "-u": "UDP", "--sctp-service": "SCTP"}
    table: dict[str, dict] = {}
    for line in text.splitlines():
        w = line.split()
        if not w:
            continue
        key = f"FWM {w[2]} IPv4" if w[1] == "-f" else f"{proto[w[1]]} {w[2]}"
        opts = dict(zip(w[3::2], w[4::2], strict=False))
        if w[0] == "-A":
            table[key] = {"scheduler": opts["-s"], "dests": {}}
        elif w[0] == "-a":
            rs = w[w.index("-r") + 1]
            table[key]["dests"][rs] = int(w[w.index("-w") + 1])
    return table


def apply_preview(before: dict[str, dict], ipvs: dict) -> dict[str, dict]:
    """`before` with the preview's changes made: what the HUP should leave in the kernel."""
    t = json.loads(json.dumps(before))
    for s in ipvs["services_removed"]:
        del t[s]
    for s in ipvs["services_added"] + ipvs["services_changed"]:
        key, sched = s.rsplit(" ", 1)
        t.setdefault(key, {"dests": {}})["scheduler"] = sched
    for item in ipvs["destinations_removed"]:
        svc, rs = item.split(" -> ")
        del t[svc]["dests"][rs]
    for item in ipvs["destinations_added"] + ipvs["destinations_changed"]:
        svc, rest = item.split(" -> ")
        rs, _, weight = rest.split()
        t[svc]["dests"][rs] = int(weight)
    for item in ipvs["destinations_reweighted"]:
        svc, rest = item.split(" -> ", 1)
        rs, _, old, _, new = rest.split()
        assert t[svc]["dests"][rs] == int(old), (item, t[svc])
        t[svc]["dests"][rs] = int(new)
    return t


def test_ipvs_preview_equals_the_kernel_table_change():
    need_guest()
    from conformance.guest import run_in_guest

    py = str(REPO / ".venv" / "bin" / "keepalived-py")
    cmd = f"cd {REPO} && python3 -u $KPY_SCRATCH/driver.py {shlex.quote(py)} $KPY_SCRATCH/old.conf $KPY_SCRATCH/new.conf"
    res = run_in_guest([SETUP, cmd], timeout=600, files={"driver.py": DRIVER, "old.conf": OLD, "new.conf": NEW},
                       keep_going=True)
    line = next((x for x in res.stdout.splitlines() if x.startswith("KPY-PREVIEW ")), None)
    assert line, f"no result (rc {res.returncode}):\n{res.stdout[-3000:]}\n{res.console[-2000:]}"
    r = json.loads(line[len("KPY-PREVIEW "):])
    assert r["up"], r["before"] + r["log"]
    assert r["preview_rc"] == 0, r["preview_err"] + r["log"]
    assert r["reloaded"], r["after"] + r["log"]
    before, after = parse_table(r["before"]), parse_table(r["after"])
    assert before == {"TCP 192.0.2.10:80": {"scheduler": "rr", "dests": {"192.0.2.11:8080": 3, "192.0.2.12:8080": 2}},
                      "TCP 192.0.2.10:81": {"scheduler": "rr", "dests": {"192.0.2.13:8080": 1}}}, r["before"]
    assert parse_table(r["after_preview"]) == before, "the preview changed the table"
    ipvs = json.loads(r["preview"])["ipvs"]
    assert ipvs.get("changes") is True, ipvs
    print("preview:", json.dumps(ipvs, indent=1))
    # each kind of change is there, so the comparison below has something to compare
    assert ipvs["services_added"] and ipvs["services_removed"] and ipvs["destinations_added"], ipvs
    assert ipvs["destinations_removed"] and ipvs["destinations_reweighted"], ipvs
    assert apply_preview(before, ipvs) == after, (ipvs, r["after"])
