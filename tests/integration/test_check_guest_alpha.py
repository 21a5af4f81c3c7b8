"""Log parity with keepalived 2.2.7 in the qemu guest for alpha mode and inhibit_on_failure:
HTTP_GET with two urls (the second with a digest) and retries, and a TCP_CHECK; both servers
start out of the pool (in it with weight 0), come up url by url, one fails and returns."""

from __future__ import annotations

import json

import pytest

from tests.envcheck import keepalived_binary
from tests.guestcheck import need_guest
from tests.integration.test_check_guest_logs import PATTERNS, REPO, relevant

# one guest boot per test, and the guest is shared: it may first wait for another run to finish
pytestmark = [pytest.mark.root, pytest.mark.guest, pytest.mark.slow, pytest.mark.timeout(1200)]

CONF = """
global_defs {
    router_id kpycheck3
}
virtual_server 192.0.2.1 8080 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    alpha
    inhibit_on_failure
    real_server 127.0.0.10 8080 {
        HTTP_GET {
            url {
                path /a
            }
            url {
                path /b
                digest 444bcb3a3fcf8389296c49467f27e1d6
            }
            connect_timeout 2
            retry 1
            delay_before_retry 1
            warmup 0
        }
    }
    real_server 127.0.0.11 8080 {
        TCP_CHECK {
            connect_timeout 2
            warmup 0
        }
    }
}
"""

SCENARIO = r'''
import asyncio, json, os, re, signal, socket, subprocess, sys, threading, time
sys.path.insert(0, sys.argv[1])
CONF = os.path.join(os.environ.get("KPY_SCRATCH", "/run/kpy"), "alpha.conf")
LISTEN = ("import http.server, sys\n"
          "class H(http.server.BaseHTTPRequestHandler):\n"
          "    def do_GET(self):\n"
          "        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers()\n"
          "        self.wfile.write(b'ok')\n"
          "    def log_message(self, *a): pass\n"
          "http.server.HTTPServer((sys.argv[1], 8080), H).serve_forever()\n")

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

servers = {"web": listener("127.0.0.10"), "tcp": listener("127.0.0.11")}

def story(get_lines, stop):
    ok = wait_for(get_lines, r"Enabling service \[127\.0\.0\.10\]", 0)
    ok &= wait_for(get_lines, r"Enabling service \[127\.0\.0\.11\]", 0)
    time.sleep(1.5)
    mark = len(get_lines())
    servers["web"].kill(); servers["web"].wait()
    ok &= wait_for(get_lines, r"Disabling service \[127\.0\.0\.10\]", mark)
    time.sleep(1)
    mark = len(get_lines())
    servers["web"] = listener("127.0.0.10")
    ok &= wait_for(get_lines, r"Enabling service \[127\.0\.0\.10\]", mark)
    time.sleep(1.5)
    stop()
    return ok

result = {}
log_path = "/tmp/ka-alpha.log"
with open(log_path, "w") as log:
    ka = subprocess.Popen(["keepalived", "-n", "-l", "-D", "-C", "-f", CONF, "-p", "/tmp/ka-a.pid",
                           "-c", "/tmp/ka-a-check.pid", "-r", "/tmp/ka-a-vrrp.pid"],
                          stdout=log, stderr=subprocess.STDOUT)
    def ka_lines():
        return open(log_path, errors="replace").read().splitlines()
    def ka_stop():
        ka.send_signal(signal.SIGTERM)
        ka.wait(20)
    result["ka_ok"] = story(ka_lines, ka_stop)
result["ka"] = ka_lines()
from keepalived_py.check import spec as specmod
from keepalived_py.check.quorum import Log, Pool
from keepalived_py.check.scheduler import Scheduler
from keepalived_py.clock import MonotonicClock
from keepalived_py.config.loader import load_text
ours = []
vss, specs = specmod.build(load_text(open(CONF).read()).config)
stop_flag = threading.Event()
def run_ours():
    async def main():
        sched = Scheduler(specs, Pool(vss), clock=MonotonicClock(),
                          emit=lambda ds: ours.extend(d.text for d in ds if isinstance(d, Log)))
        sched.start()
        task = asyncio.get_running_loop().create_task(sched.run())
        while not stop_flag.is_set():
            await asyncio.sleep(0.1)
        await sched.stop()
        await task
    asyncio.run(main())
t = threading.Thread(target=run_ours)
t.start()
def our_stop():
    stop_flag.set()
    t.join(30)
result["py_ok"] = story(lambda: list(ours), our_stop)
result["py"] = list(ours)
for p in servers.values():
    p.kill()
print("KPY-CHECK-LOGS " + json.dumps(result))
'''

MORE = [r"MD5 digest success to .*", r"Regex match success to .*"]


def test_alpha_inhibit_http_urls_log_lines_match_keepalived():
    need_guest()
    keepalived_binary()
    from conformance.guest import run_in_guest

    res = run_in_guest([f"cd {REPO} && {REPO}/.venv/bin/python $KPY_SCRATCH/scenario.py {REPO}"],
                       timeout=400, files={"alpha.conf": CONF, "scenario.py": SCENARIO})
    line = next((x for x in res.stdout.splitlines() if x.startswith("KPY-CHECK-LOGS ")), None)
    assert line, f"no result (rc {res.returncode}):\n{res.stdout[-3000:]}\n{res.console[-2000:]}"
    r = json.loads(line[len("KPY-CHECK-LOGS "):])
    assert r["ka_ok"], "\n".join(r["ka"])
    assert r["py_ok"], "\n".join(r["py"])
    patterns = PATTERNS + MORE
    ka, py = relevant(r["ka"], patterns), relevant(r["py"], patterns)
    print("compared lines (count, text):\n" + "\n".join(f"  {n} {t}" for t, n in sorted(ka.items())))
    missing = ka - py
    extra = py - ka
    assert not missing and not extra, (f"keepalived only: {dict(missing)}\nours only: {dict(extra)}\n"
                                       f"keepalived:\n" + "\n".join(r["ka"]) + "\nours:\n" + "\n".join(r["py"]))
