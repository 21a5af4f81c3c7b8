"""The check child on a real IPVS kernel (qemu guest): `-I` leaves the table at stop as real
keepalived 2.2.7 does (same sorted `ipvsadm -S -n`); a check child killed with SIGKILL is
respawned by the parent and adopts the table it finds - a foreign destination added inside
our service survives (a flush or a rebuild would drop it), a foreign service too - and a
SIGTERM afterwards removes our service and nothing else."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from conformance.scenarios.ipvs_check_story import CASES, SETUP
from tests.envcheck import keepalived_binary
from tests.guestcheck import need_guest

pytestmark = [pytest.mark.root, pytest.mark.guest, pytest.mark.slow, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[2]

DRIVER = r'''
import json, os, signal, socket, subprocess, sys, time
ka, py, conf = sys.argv[1], sys.argv[2], sys.argv[3]
for a in ("192.0.2.11", "192.0.2.12"):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, 8080)); s.listen(64); globals()["s" + a[-1]] = s
def table():
    out = subprocess.run(["ipvsadm", "-S", "-n"], capture_output=True, text=True).stdout
    return sorted(l for l in out.splitlines() if l.strip())
def wait(pred, t):
    end = time.time() + t
    while time.time() < end:
        if pred(): return True
        time.sleep(0.3)
    return False
def start(name, argv, extra):
    d = f"/tmp/adopt-{name}"; os.makedirs(d + "/tmp", exist_ok=True)
    p = subprocess.Popen(argv + ["-n", "-l", "-C", "-f", conf, "-p", d + "/k.pid", "-c", d + "/c.pid"] + extra,
                         stdout=open(d + "/log", "w"), stderr=subprocess.STDOUT, env=dict(os.environ, TMPDIR=d + "/tmp"))
    wait(lambda: len([l for l in table() if l.startswith("-a")]) >= 2, 120)
    time.sleep(3)
    return p, d
res = {}
for name, argv in (("keepalived", [ka]), ("keepalived-py", [py])):
    subprocess.run(["ipvsadm", "-C"])
    p, d = start(name, argv, ["-I"])
    res[name + "-running"] = table()
    p.send_signal(signal.SIGTERM); res[name + "-rc"] = p.wait(60)
    res[name + "-after-I"] = table()
subprocess.run(["ipvsadm", "-C"])
p, d = start("respawn", [py], [])
res["before"] = table()
subprocess.run(["ipvsadm", "-a", "-t", "192.0.2.10:80", "-r", "192.0.2.99:8080", "-m", "-w", "1"])
subprocess.run(["ipvsadm", "-A", "-t", "192.0.2.50:443", "-s", "rr"])
first = int(open(d + "/c.pid").read())
os.kill(first, signal.SIGKILL)
def respawned():
    try:
        return int(open(d + "/c.pid").read()) != first
    except (OSError, ValueError):
        return False
res["respawned"] = wait(respawned, 120)
time.sleep(15)
res["after-respawn"] = table()
p.send_signal(signal.SIGTERM); res["respawn-rc"] = p.wait(60)
res["after-stop"] = table()
res["log"] = open(d + "/log").read()[-4000:]
print("KPY-ADOPT " + json.dumps(res), flush=True)
'''


def test_dont_release_and_respawn_adoption():
    need_guest()
    ka = keepalived_binary()
    from conformance.guest import run_in_guest

    ours = str(REPO / ".venv" / "bin" / "keepalived-py")
    cmd = f"python3 -u $KPY_SCRATCH/adopt.py {shlex.quote(ka)} {shlex.quote(ours)} $KPY_SCRATCH/k.conf"
    res = run_in_guest([SETUP, cmd], timeout=900, files={"adopt.py": DRIVER, "k.conf": CASES["nat_rr_remove"][0]},
                       keep_going=True)
    line = next((x for x in res.steps[1].output.splitlines() if x.startswith("KPY-ADOPT ")), None)
    assert line is not None, res.stdout[-4000:]
    r = json.loads(line[len("KPY-ADOPT "):])
    assert r["keepalived-running"] and r["keepalived-py-running"] == r["keepalived-running"]
    assert r["keepalived-after-I"] == r["keepalived-running"], "keepalived -I should leave its table"
    assert r["keepalived-py-after-I"] == r["keepalived-after-I"]
    assert r["keepalived-py-rc"] == 0
    assert r["respawned"], r["log"]
    foreign_dest = "-a -t 192.0.2.10:80 -r 192.0.2.99:8080 -m -w 1"
    assert sorted(r["before"] + [foreign_dest, "-A -t 192.0.2.50:443 -s rr"]) == r["after-respawn"], r["log"]
    assert r["respawn-rc"] == 0
    assert r["after-stop"] == ["-A -t 192.0.2.50:443 -s rr"], r
