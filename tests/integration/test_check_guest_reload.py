"""Log parity with keepalived 2.2.7 in the qemu guest across a reload (SIGHUP / Scheduler.reload):
a real server removed, one whose weight changes, one whose checker changes, a new alpha one."""

from __future__ import annotations

import json

import pytest

from tests.envcheck import keepalived_binary
from tests.guestcheck import need_guest
from tests.integration.test_check_guest_logs import PATTERNS, REPO, relevant

# one guest boot per test, and the guest is shared: it may first wait for another run to finish
pytestmark = [pytest.mark.root, pytest.mark.guest, pytest.mark.slow, pytest.mark.timeout(1200)]

HEAD = """
global_defs {
    router_id kpycheck4
}
virtual_server 192.0.2.1 8080 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
"""
BEFORE = HEAD + """
    real_server 127.0.0.20 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 2
            warmup 0
        }
    }
    real_server 127.0.0.21 8080 {
        weight 2
        TCP_CHECK {
            connect_timeout 2
            warmup 0
        }
    }
    real_server 127.0.0.22 8080 {
        TCP_CHECK {
            connect_timeout 2
            warmup 0
        }
    }
}
"""
AFTER = HEAD + """
    real_server 127.0.0.20 8080 {
        weight 5
        TCP_CHECK {
            connect_timeout 2
            warmup 0
        }
    }
    real_server 127.0.0.22 8080 {
        TCP_CHECK {
            connect_timeout 3
            warmup 0
        }
    }
    real_server 127.0.0.23 8080 {
        alpha
        TCP_CHECK {
            connect_timeout 2
            warmup 0
        }
    }
}
"""

SCENARIO = r'''
import asyncio, json, os, re, shutil, signal, socket, subprocess, sys, threading, time
sys.path.insert(0, sys.argv[1])
SCRATCH = os.environ.get("KPY_SCRATCH", "/run/kpy")
CONF = "/tmp/kpy-reload.conf"
LISTEN = ("import socket, sys\n"
          "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
          "s.bind((sys.argv[1], 8080)); s.listen(64)\n"
          "while True:\n"
          "    c, _ = s.accept(); c.close()\n")

def listener(addr):
    proc = subprocess.Popen([sys.executable, "-c", LISTEN, addr])
    t0 = time.time()
    while time.time() - t0 < 60:
        try:
            socket.create_connection((addr, 8080), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"listener {addr} did not come up")

def wait_for(get_lines, pattern, since, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if any(re.search(pattern, l) for l in get_lines()[since:]):
            return True
        time.sleep(0.2)
    return False

servers = [listener(f"127.0.0.{n}") for n in (20, 21, 22, 23)]

def story(get_lines, reload, stop):
    shutil.copy(os.path.join(SCRATCH, "before.conf"), CONF)
    ok = True
    for n in (20, 21, 22):
        ok &= wait_for(get_lines, rf"TCP connection to \[127\.0\.0\.{n}\]:tcp:8080 success", 0)
    time.sleep(1.5)
    mark = len(get_lines())
    shutil.copy(os.path.join(SCRATCH, "after.conf"), CONF)
    reload()
    ok &= wait_for(get_lines, r"Adding service \[127\.0\.0\.23\]", mark)
    ok &= wait_for(get_lines, r"TCP connection to \[127\.0\.0\.22\]:tcp:8080 success", mark)
    time.sleep(1.5)
    stop()
    return ok

result = {}
shutil.copy(os.path.join(SCRATCH, "before.conf"), CONF)
log_path = "/tmp/ka-reload.log"
with open(log_path, "w") as log:
    ka = subprocess.Popen(["keepalived", "-n", "-l", "-D", "-C", "-f", CONF, "-p", "/tmp/ka-r.pid",
                           "-c", "/tmp/ka-r-check.pid", "-r", "/tmp/ka-r-vrrp.pid"],
                          stdout=log, stderr=subprocess.STDOUT)
    def ka_lines():
        return open(log_path, errors="replace").read().splitlines()
    def ka_reload():
        ka.send_signal(signal.SIGHUP)
    def ka_stop():
        ka.send_signal(signal.SIGTERM)
        ka.wait(20)
    result["ka_ok"] = story(ka_lines, ka_reload, ka_stop)
result["ka"] = ka_lines()
from keepalived_py.check import spec as specmod
from keepalived_py.check.quorum import Log, Pool
from keepalived_py.check.scheduler import Scheduler
from keepalived_py.clock import MonotonicClock
from keepalived_py.config.loader import load_text
ours = []
shutil.copy(os.path.join(SCRATCH, "before.conf"), CONF)
vss, specs = specmod.build(load_text(open(CONF).read()).config)
stop_flag = threading.Event()
holder = {}
def run_ours():
    async def main():
        sched = Scheduler(specs, Pool(vss), clock=MonotonicClock(),
                          emit=lambda ds: ours.extend(d.text for d in ds if isinstance(d, Log)))
        holder["sched"], holder["loop"] = sched, asyncio.get_running_loop()
        sched.start()
        task = asyncio.get_running_loop().create_task(sched.run())
        while not stop_flag.is_set():
            await asyncio.sleep(0.1)
        await sched.stop()
        await task
    asyncio.run(main())
t = threading.Thread(target=run_ours)
t.start()
def our_reload():
    new_vss, new_specs = specmod.build(load_text(open(CONF).read()).config)
    holder["loop"].call_soon_threadsafe(holder["sched"].reload, new_specs, new_vss)
def our_stop():
    stop_flag.set()
    t.join(30)
result["py_ok"] = story(lambda: list(ours), our_reload, our_stop)
result["py"] = list(ours)
for p in servers:
    p.kill()
print("KPY-CHECK-LOGS " + json.dumps(result))
'''

MORE = [r"service \S+ no longer exist", r"Changing weight from .*"]


def test_reload_log_lines_match_keepalived():
    need_guest()
    keepalived_binary()
    from conformance.guest import run_in_guest

    res = run_in_guest([f"cd {REPO} && {REPO}/.venv/bin/python $KPY_SCRATCH/scenario.py {REPO}"],
                       timeout=400, files={"before.conf": BEFORE, "after.conf": AFTER, "scenario.py": SCENARIO})
    line = next((x for x in res.stdout.splitlines() if x.startswith("KPY-CHECK-LOGS ")), None)
    assert line, f"no result (rc {res.returncode}):\n{res.stdout[-3000:]}\n{res.console[-2000:]}"
    r = json.loads(line[len("KPY-CHECK-LOGS "):])
    assert r["ka_ok"], "\n".join(r["ka"])
    assert r["py_ok"], "\n".join(r["py"])
    patterns = MORE + PATTERNS
    ka, py = relevant(r["ka"], patterns), relevant(r["py"], patterns)
    print("compared lines (count, text):\n" + "\n".join(f"  {n} {t}" for t, n in sorted(ka.items())))
    missing = ka - py
    extra = py - ka
    assert not missing and not extra, (f"keepalived only: {dict(missing)}\nours only: {dict(extra)}\n"
                                       f"keepalived:\n" + "\n".join(r["ka"]) + "\nours:\n" + "\n".join(r["py"]))
