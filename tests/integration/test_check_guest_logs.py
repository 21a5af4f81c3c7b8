"""Our checker log lines beside real keepalived 2.2.7's, in the qemu guest (real IPVS): the same
configuration, the same real servers on loopback, the same story - all up, servers stop, they
come back, stop. Every line operators grep for that keepalived writes, we write too (as a
multiset: the order between servers depends on timing). Two stories: TCP/HTTP/MISC with quorum
and a sorry server; SMTP/DNS/UDP/PING."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.envcheck import keepalived_binary
from tests.guestcheck import need_guest

# one guest boot for both stories, and the guest is shared: it may first wait for another run to finish
pytestmark = [pytest.mark.root, pytest.mark.guest, pytest.mark.slow, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[2]

CONF = """
global_defs {
    router_id kpycheck
}
virtual_server 192.0.2.1 8080 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 2
    sorry_server 127.0.0.9 8080
    real_server 127.0.0.2 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }
    }
    real_server 127.0.0.3 8080 {
        weight 1
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
    real_server 127.0.0.4 8080 {
        weight 1
        MISC_CHECK {
            misc_path "/tmp/kpy-misc.sh"
            misc_timeout 5
            misc_dynamic
            warmup 0
        }
    }
}
"""

SCENARIO = r'''
import asyncio, json, os, re, signal, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
SCRATCH = os.environ.get("KPY_SCRATCH", "/run/kpy")
CONF = os.path.join(SCRATCH, "check.conf")
LISTEN = ("import http.server, socketserver, sys\n"
          "class H(http.server.BaseHTTPRequestHandler):\n"
          "    def do_GET(self):\n"
          "        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers()\n"
          "        self.wfile.write(b'ok')\n"
          "    def log_message(self, *a): pass\n"
          "socketserver.TCPServer.allow_reuse_address = True\n"
          "http.server.HTTPServer((sys.argv[1], 8080), H).serve_forever()\n")

def listener(addr):
    """A web server on addr:8080, returned once it accepts connections."""
    import socket
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
    """Whether a line after the first `since` ones matches, within timeout."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if any(re.search(pattern, l) for l in get_lines()[since:]):
            return True
        time.sleep(0.2)
    return False

def misc_rc(n):
    with open("/tmp/kpy-misc.rc", "w") as f:
        f.write(f"{n}\n")

def story(get_lines, stop):
    ok = wait_for(get_lines, r"TCP connection to \[127\.0\.0\.2\]:tcp:8080 success", 0)
    ok &= wait_for(get_lines, r"Remote Web server \[127\.0\.0\.3\]:tcp:8080 succeed", 0)
    ok &= wait_for(get_lines, r"Misc check for \[\[127\.0\.0\.4\]:tcp:8080 .* succeeded", 0)
    mark = len(get_lines())
    misc_rc(2)                     # misc_dynamic: weight 2 - 2 = 0
    ok &= wait_for(get_lines, r"Changing weight from 1 to 0", mark)
    time.sleep(1.5)
    mark = len(get_lines())
    servers["a"].kill(); servers["a"].wait()
    ok &= wait_for(get_lines, r"Lost quorum", mark)
    time.sleep(1)
    mark = len(get_lines())
    servers["a"] = listener("127.0.0.2")
    ok &= wait_for(get_lines, r"Gained quorum .* <= 2 ", mark)
    time.sleep(1.5)
    stop()
    return ok

servers = {"a": listener("127.0.0.2"), "b": listener("127.0.0.3")}
with open("/tmp/kpy-misc.sh", "w") as f:
    f.write("#!/bin/sh\nexit $(cat /tmp/kpy-misc.rc)\n")
os.chmod("/tmp/kpy-misc.sh", 0o755)
misc_rc(0)
result = {}
# --- real keepalived
log_path = "/tmp/ka-check.log"
with open(log_path, "w") as log:
    ka = subprocess.Popen(["keepalived", "-n", "-l", "-D", "-C", "-f", CONF, "-p", "/tmp/ka-c.pid",
                           "-c", "/tmp/ka-c-check.pid", "-r", "/tmp/ka-c-vrrp.pid"],
                          stdout=log, stderr=subprocess.STDOUT)
    def ka_lines():
        return open(log_path, errors="replace").read().splitlines()
    def ka_stop():
        ka.send_signal(signal.SIGTERM)
        ka.wait(20)
    result["ka_ok"] = story(ka_lines, ka_stop)
result["ka"] = ka_lines()
# --- ours
misc_rc(0)
from keepalived_py.check import spec as specmod
from keepalived_py.check.kinds.base import Resources
from keepalived_py.scripts.runner import ScriptRunner
from keepalived_py.check.quorum import Log, Pool
from keepalived_py.check.scheduler import Scheduler
from keepalived_py.clock import MonotonicClock
from keepalived_py.config.loader import load_text
import threading
ours = []
loaded = load_text(open(CONF).read())
vss, specs = specmod.build(loaded.config)
def run_ours():
    async def main():
        sched = Scheduler(specs, Pool(vss), clock=MonotonicClock(), resources=Resources(runner=ScriptRunner()),
                          emit=lambda ds: ours.extend(d.text for d in ds if isinstance(d, Log)))
        sched.start()
        task = asyncio.get_running_loop().create_task(sched.run())
        while not stop_flag.is_set():
            await asyncio.sleep(0.1)
        await sched.stop()
        await task
    asyncio.run(main())
stop_flag = threading.Event()
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

#: the lines compared: keepalived's checker and pool lines operators grep for
PATTERNS = [r"TCP connection to .*", r"TCP_CHECK on service .*", r"Remote Web server .*", r"HTTP_CHECK on .*",
            r"HTTP status code success to .*", r"(Adding|Removing|Enabling|Disabling) (\(inhibited\) )?service .*",
            r"(Gained|Lost) quorum .*", r"Starting with quorum down .*",
            r"(Adding|Removing|Enabling|Disabling) sorry server .*",
            r"(Adding|Removing) alive servers .*", r"Activating healthchecker .*",
            r"Shutting down (\(inhibited\) )?service .*",
            r"Misc check for .*", r"Changing weight from .*"]


def relevant(lines: list[str], patterns: list[str] = PATTERNS) -> Counter:
    out: Counter = Counter()
    for line in lines:
        for pat in patterns:
            m = re.search(pat, line)
            if m:
                out[m.group(0).strip()] += 1
                break
    return out


@pytest.fixture(scope="module")
def stories() -> dict[str, dict]:
    """Both stories in one guest boot, one after the other (the IPVS table flushed between)."""
    need_guest()
    keepalived_binary()
    from conformance.guest import run_in_guest

    py = f"cd {REPO} && {REPO}/.venv/bin/python"
    res = run_in_guest([f"{py} $KPY_SCRATCH/scenario_tcp.py {REPO}", "ipvsadm -C",
                        f"{py} $KPY_SCRATCH/scenario_protocols.py {REPO}"], timeout=800, keep_going=True,
                       files={"check.conf": CONF, "scenario_tcp.py": SCENARIO,
                              "protocols.conf": CONF_PROTOCOLS, "scenario_protocols.py": SCENARIO_PROTOCOLS})
    out = {}
    for name, step in (("tcp", 0), ("protocols", 2)):
        text = res.steps[step].output if len(res.steps) > step else ""
        line = next((x for x in text.splitlines() if x.startswith("KPY-CHECK-LOGS ")), None)
        out[name] = (json.loads(line[len("KPY-CHECK-LOGS "):]) if line
                     else {"missing": f"{text[-3000:]}\n(rc {res.returncode})\n{res.console[-1500:]}"})
    return out


def test_checker_log_lines_match_keepalived(stories: dict[str, dict]):
    r = stories["tcp"]
    assert "missing" not in r, f"the TCP/HTTP/MISC story printed no result:\n{r.get('missing')}"
    assert r["ka_ok"], "\n".join(r["ka"])
    assert r["py_ok"], "\n".join(r["py"])
    ka, py = relevant(r["ka"]), relevant(r["py"])
    print("compared lines (count, text):\n" + "\n".join(f"  {n} {t}" for t, n in sorted(ka.items())))
    assert ka, "\n".join(r["ka"])
    missing = ka - py
    extra = py - ka
    assert not missing and not extra, (f"keepalived only: {dict(missing)}\nours only: {dict(extra)}\n"
                                       f"keepalived:\n" + "\n".join(r["ka"]) + "\nours:\n" + "\n".join(r["py"]))


CONF_PROTOCOLS = """
global_defs {
    router_id kpycheck2
}
virtual_server 192.0.2.1 8080 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.5 8080 {
        SMTP_CHECK {
            helo_name probe.example
            connect_timeout 2
            retry 0
            warmup 0
        }
    }
    real_server 127.0.0.6 8080 {
        DNS_CHECK {
            type A
            name example.org
            connect_timeout 2
            retry 0
            warmup 0
        }
    }
    real_server 127.0.0.7 8080 {
        UDP_CHECK {
            payload 6b7079
            require_reply 6b7079
            connect_timeout 2
            retry 0
            warmup 0
        }
    }
    real_server 127.0.0.8 8080 {
        PING_CHECK {
            connect_timeout 2
            retry 0
            warmup 0
        }
    }
}
"""

#: SMTP, DNS and UDP servers on loopback in the guest; the same story for keepalived and us:
#: all up, the three stop, they return, stop
SCENARIO_PROTOCOLS = r'''
import asyncio, json, os, re, signal, subprocess, sys, threading, time
sys.path.insert(0, sys.argv[1])
SCRATCH = os.environ.get("KPY_SCRATCH", "/run/kpy")
CONF = os.path.join(SCRATCH, "protocols.conf")
SERVE = r"""
import socket, socketserver, sys
kind, addr = sys.argv[1], sys.argv[2]
if kind == "smtp":
    class H(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 hi\r\n"); self.rfile.readline()
            self.wfile.write(b"250 ok\r\n"); self.rfile.readline()
            self.wfile.write(b"221 bye\r\n")
    socketserver.TCPServer.allow_reuse_address = True
    socketserver.TCPServer((addr, 8080), H).serve_forever()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 8080))
open("/tmp/kpy-ready-" + kind, "w").close()
while True:
    data, peer = s.recvfrom(2048)
    if kind == "dns":
        data = data[:2] + b"\x81\x80" + data[4:]
    s.sendto(data, peer)
"""

def start(kind, addr):
    ready = "/tmp/kpy-ready-" + kind
    if os.path.exists(ready):
        os.unlink(ready)
    proc = subprocess.Popen([sys.executable, "-c", SERVE, kind, addr])
    t0 = time.time()
    import socket
    while time.time() - t0 < 60:
        if kind == "smtp":
            try:
                socket.create_connection((addr, 8080), timeout=1).close()
                return proc
            except OSError:
                pass
        elif os.path.exists(ready):
            return proc
        time.sleep(0.1)
    raise SystemExit(f"{kind} server did not come up")

ADDRS = {"smtp": "127.0.0.5", "dns": "127.0.0.6", "udp": "127.0.0.7"}
servers = {k: start(k, a) for k, a in ADDRS.items()}

def wait_for(get_lines, pattern, since, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if any(re.search(pattern, l) for l in get_lines()[since:]):
            return True
        time.sleep(0.2)
    return False

def story(get_lines, stop):
    ok = wait_for(get_lines, r"Remote SMTP server \[127\.0\.0\.5\]:tcp:8080 succeed", 0)
    ok &= wait_for(get_lines, r"UDP connection to \[127\.0\.0\.7\]:tcp:8080 success", 0)
    ok &= wait_for(get_lines, r"ICMP connection to \[127\.0\.0\.8\]:tcp:8080 success", 0)
    time.sleep(2.5)                  # DNS logs nothing on success: give it its first runs
    mark = len(get_lines())
    for k in list(servers):
        servers[k].kill(); servers[k].wait()
    ok &= wait_for(get_lines, r"SMTP_CHECK .*127\.0\.0\.5", mark)
    ok &= wait_for(get_lines, r"DNS_CHECK \(\[127\.0\.0\.6\]", mark)
    ok &= wait_for(get_lines, r"UDP_CHECK on service \[127\.0\.0\.7\]", mark)
    mark = len(get_lines())
    for k, a in ADDRS.items():
        servers[k] = start(k, a)
    ok &= wait_for(get_lines, r"Adding service \[127\.0\.0\.5\]", mark)
    ok &= wait_for(get_lines, r"Adding service \[127\.0\.0\.6\]", mark)
    ok &= wait_for(get_lines, r"Adding service \[127\.0\.0\.7\]", mark)
    time.sleep(1.5)
    stop()
    return ok

result = {}
log_path = "/tmp/ka-protocols.log"
with open(log_path, "w") as log:
    ka = subprocess.Popen(["keepalived", "-n", "-l", "-D", "-C", "-f", CONF, "-p", "/tmp/ka-p.pid",
                           "-c", "/tmp/ka-p-check.pid", "-r", "/tmp/ka-p-vrrp.pid"],
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

PROTOCOL_PATTERNS = [r"Remote SMTP server .*", r"SMTP_CHECK .*", r"DNS_CHECK .*", r"UDP connection to .*",
                     r"UDP_CHECK on service .*", r"ICMP connection to .*", r"ICMP CHECK on service .*"]


def test_protocol_checker_log_lines_match_keepalived(stories: dict[str, dict]):
    r = stories["protocols"]
    assert "missing" not in r, f"the SMTP/DNS/UDP/PING story printed no result:\n{r.get('missing')}"
    assert r["ka_ok"], "\n".join(r["ka"])
    assert r["py_ok"], "\n".join(r["py"])
    patterns = PATTERNS + PROTOCOL_PATTERNS
    ka, py = relevant(r["ka"], patterns), relevant(r["py"], patterns)
    print("compared lines (count, text):\n" + "\n".join(f"  {n} {t}" for t, n in sorted(ka.items())))
    missing = ka - py
    extra = py - ka
    assert not missing and not extra, (f"keepalived only: {dict(missing)}\nours only: {dict(extra)}\n"
                                       f"keepalived:\n" + "\n".join(r["ka"]) + "\nours:\n" + "\n".join(r["py"]))
