"""The check child as a process (host, own network namespace, userspace IPVS backend): the
parent starts it for a config with virtual servers, `-C` runs only it, `-c FILE` is its pid
file, its process name says what it is, it serves the virtual server, a kill -9 is followed
by a respawn that serves again, and SIGTERM stops everything and removes the pid files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.envcheck import need_netns

pytestmark = [pytest.mark.root, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]

CONF = """global_defs {
    router_id kpyproc
}
virtual_server 192.0.2.10 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.11 8080 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
}
"""

CLIENT = r"""
import socket, sys, time
end = time.time() + float(sys.argv[1])
while time.time() < end:
    try:
        s = socket.create_connection(("192.0.2.10", 80), timeout=1)
        s.settimeout(2)
        if s.recv(10) == b"rs\n":
            print("ok"); sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
print("no"); sys.exit(1)
"""

SERVER = r"""
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.11", 8080)); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"rs\n"); c.close()
"""


def ns_run(ns: str, argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, **kw)


def comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def wait_for(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return False


def test_check_child_process(tmp_path):
    need_netns()
    ns = f"kpycp{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    procs: list[subprocess.Popen] = []
    try:
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", "192.0.2.10/32", "dev", "lo"],
                    ["ip", "addr", "add", "192.0.2.11/32", "dev", "lo"]):
            ns_run(ns, cmd, check=True)
        procs.append(subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVER]))
        conf = tmp_path / "k.conf"
        conf.write_text(CONF)
        pids = {r: tmp_path / f"{r}.pid" for r in ("main", "vrrp", "check")}
        log = open(tmp_path / "log", "w")  # noqa: SIM115 - closed in finally
        env = dict(os.environ, TMPDIR=str(tmp_path))
        d = subprocess.Popen(["ip", "netns", "exec", ns, str(REPO / ".venv/bin/keepalived-py"), "-n", "-l", "-C",
                              "-f", str(conf), "-p", str(pids["main"]), "-r", str(pids["vrrp"]),
                              "-c", str(pids["check"]), "--lvs-backend=userspace"],
                             stdout=log, stderr=subprocess.STDOUT, env=env)
        procs.append(d)
        assert wait_for(lambda: pids["check"].exists() and pids["check"].read_text().strip(), 30)
        first = int(pids["check"].read_text())
        assert comm(first) == "keepalived_chk"
        assert not pids["vrrp"].exists()
        r = ns_run(ns, [sys.executable, "-c", CLIENT, "30"])
        assert r.stdout.strip() == "ok", (tmp_path / "log").read_text()
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: pids["check"].exists() and pids["check"].read_text().strip()
                        and int(pids["check"].read_text()) != first, 30), (tmp_path / "log").read_text()
        r = ns_run(ns, [sys.executable, "-c", CLIENT, "30"])
        assert r.stdout.strip() == "ok", (tmp_path / "log").read_text()
        text = (tmp_path / "log").read_text()
        assert f"Healthcheck child process({first}) died: Respawning" in text
        assert "IPVS backend: userspace (as asked)" in text
        d.send_signal(signal.SIGTERM)
        assert d.wait(30) == 0
        assert not pids["check"].exists() and not pids["main"].exists()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["ip", "netns", "del", ns], check=False)
