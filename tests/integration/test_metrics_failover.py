"""The metrics endpoint scraped through a failover, with bad clients hammering it.

Two keepalived-py routers (r1 150, r2 100), each with --metrics-listen on its own
loopback. r2 is scraped every 0.2 s (curl in its namespace) while r1 stops (priority 0)
and r2 takes over; meanwhile a slow client holds a half-sent request, and requests for an
unknown path and with an oversized head arrive. Every scrape parses with prometheus_client's
text parser; the scrapes show r2's keepalived_vrrp_state go 1 -> 2, become_master and
priority_zero_received move 0 -> 1, adverts sent keep rising after; the bad requests get
404 / 431 / 408; and the takeover is as quick as without them (the VRRP timers live in the
vrrp child, the endpoint in the parent).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.envcheck import need_netns
from tests.integration.test_vrrp_runtime_support import VIP, master_down, vrrp_conf, wait_until

pytestmark = [pytest.mark.root, pytest.mark.slow]

TOPO = """
bridge lan 192.0.2.0/24
router r1 lan
router r2 lan
"""
PORT = 9650
ROOT = Path(__file__).resolve().parents[2]

BAD_CLIENTS = r"""
import socket, sys, time
port = int(sys.argv[1])
slow = socket.create_connection(("127.0.0.1", port))
slow.sendall(b"GET /metr")          # and nothing more
def ask(data):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    buf = b""
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            return "reset"
        if not d:
            break
        buf += d
    return buf.split(b"\r\n", 1)[0].decode()
print(ask(b"GET /nope HTTP/1.1\r\n\r\n"), flush=True)
print(ask(b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"), flush=True)
slow.settimeout(15)
print(slow.recv(200).split(b"\r\n", 1)[0].decode(), flush=True)
"""

COMMON = (("iname", "VI_1"), ("intf", "eth0"), ("vrid", "51"))


def parse(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def scrape(la, node: str) -> dict[tuple[str, tuple], float] | None:
    r = la.exec(node, ["curl", "-s", "-m", "3", f"http://127.0.0.1:{PORT}/metrics"], check=False)
    return parse(r.stdout) if r.returncode == 0 and r.stdout else None


def start_pair(la, py, extra=("--metrics-listen", f"127.0.0.1:{PORT}")):
    vips = la.watch_addresses(["r1", "r2"])
    r1 = la.start_daemon("r1", py, vrrp_conf(prio=150, router_id="r1"), extra=extra)
    assert vips.wait_for(VIP, node="r1", timeout=20) is not None
    r2 = la.start_daemon("r2", py, vrrp_conf(prio=100, router_id="r2"), extra=extra)
    time.sleep(master_down(100) + 0.5)
    return vips, r1, r2


def test_scraped_through_a_failover_with_bad_clients(lab, implementation):
    need_netns()
    py = implementation("keepalived-py", features=("vrrp",))
    la = lab(TOPO)
    vips, r1, r2 = start_pair(la, py)
    state_key = ("keepalived_vrrp_state", tuple(sorted((*COMMON, ("ip_address", "192.0.2.100/24")))))
    assert wait_until(lambda: (scrape(la, "r2") or {}).get(state_key) == 1, 10)

    scrapes: list[tuple[float, dict]] = []
    stop = threading.Event()

    def scraper():
        while not stop.is_set():
            s = scrape(la, "r2")
            if s is not None:
                scrapes.append((time.monotonic(), s))
            time.sleep(0.2)
    t = threading.Thread(target=scraper, daemon=True)
    t.start()
    bad = la.spawn("r2", [sys.executable, "-c", BAD_CLIENTS, str(PORT)], what="badclients")
    time.sleep(0.5)
    t0 = time.monotonic()
    la.terminate(r1)
    taken = vips.wait_for(VIP, node="r2", after=t0, timeout=10)
    assert taken is not None
    took = taken.mono - t0
    time.sleep(3)
    stop.set()
    t.join(10)
    assert bad.wait(20) == 0, bad.output()
    out = bad.output()
    assert "HTTP/1.1 404 Not Found" in out and "HTTP/1.1 431" in out and "HTTP/1.1 408" in out, out
    # the takeover after a priority-0 advert: the skew time, not held up by the clients
    assert took < 2.0, took

    states = [s.get(state_key) for _, s in scrapes]
    assert 1 in states and 2 in states and states.index(2) > states.index(1), states
    first_master = states.index(2)
    before, after = scrapes[first_master - 1][1], scrapes[-1][1]
    assert before[("keepalived_become_master_total", COMMON)] == 0
    assert after[("keepalived_become_master_total", COMMON)] == 1
    assert after[("keepalived_priority_zero_received_total", COMMON)] == 1
    sent = [s[("keepalived_advertisements_sent_total", COMMON)] for _, s in scrapes[first_master:]]
    assert sent[-1] > sent[0] and sent == sorted(sent), sent
    assert after[("keepalived_vrrp_effective_priority", COMMON)] == 100
    assert after[("keepalived_up", ())] == 1
    assert after[("keepalived_daemon_child_up", (("role", "vrrp"),))] == 1
    la.terminate(r2)
