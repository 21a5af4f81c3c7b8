"""End to end (issue 14, acceptance 4) on the host, in namespaces, with the userspace IPVS
backend (the host kernel has no IPVS; the guest is too slow for two Python directors, a
client and three real servers): two keepalived-py directors (VRRP + NAT virtual servers,
`--lvs-backend=userspace`), a client in its own namespace, three real servers in others.

- rr spreads new connections evenly, wrr by weight (3:2:1);
- after one real server's listener stops, new connections avoid it within
  delay_loop x (retry + 1) + connect_timeout (plus a margin for the check child's loop and
  this test's polling);
- after the MASTER director is killed (kill -9 of the whole daemon), the BACKUP takes the VIP
  and serves.
"""

from __future__ import annotations

import sys
import time
from collections import Counter

import pytest

from tests.envcheck import need_netns

pytestmark = [pytest.mark.root, pytest.mark.slow]

TOPO = """
bridge lan 192.0.2.0/24
router d1 lan
router d2 lan
client c lan
backend b1 lan
backend b2 lan
backend b3 lan
"""
VIP = "192.0.2.100"
DELAY_LOOP, RETRY, CONNECT_TIMEOUT = 1, 1, 1
DETECT = DELAY_LOOP * (RETRY + 1) + CONNECT_TIMEOUT

SERVER = r"""
import socket, sys
name = sys.argv[1].encode()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(128)
while True:
    c, _ = s.accept()
    try:
        c.sendall(name + b"\n")
    except OSError:
        pass
    c.close()
"""

CLIENT = r"""
import socket, sys, time
vip, port, n, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
for _ in range(n):
    t = time.monotonic()
    try:
        s = socket.create_connection((vip, port), timeout=2)
        s.settimeout(2)
        data = s.recv(100).decode().strip() or "empty"
        s.close()
    except OSError as e:
        data = "error:" + type(e).__name__
    print(f"{t:.3f} {data}", flush=True)
    if gap:
        time.sleep(gap)
"""


def conf(prio: int, backends: list[str]) -> str:
    def rs(addr: str, weight: int) -> str:
        return (f"    real_server {addr} 8080 {{\n        weight {weight}\n        TCP_CHECK {{\n"
                f"            connect_timeout {CONNECT_TIMEOUT}\n            retry {RETRY}\n"
                "            delay_before_retry 1\n            warmup 0\n        }\n    }\n")
    rr = "".join(rs(a, 1) for a in backends)
    wrr = "".join(rs(a, w) for a, w in zip(backends, (3, 2, 1), strict=True))
    return f"""global_defs {{
    router_id d{prio}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {prio}
    advert_int 1
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
virtual_server {VIP} 80 {{
    delay_loop {DELAY_LOOP}
    lb_algo rr
    lb_kind NAT
    protocol TCP
{rr}}}
virtual_server {VIP} 81 {{
    delay_loop {DELAY_LOOP}
    lb_algo wrr
    lb_kind NAT
    protocol TCP
{wrr}}}
"""


def client(la, port: int, n: int, gap: float = 0.0) -> list[tuple[float, str]]:
    r = la.exec("c", [sys.executable, "-c", CLIENT, VIP, str(port), str(n), str(gap)], timeout=120)
    out = []
    for line in r.stdout.splitlines():
        t, who = line.split(" ", 1)
        out.append((float(t), who))
    return out


def wait_until(pred, timeout: float, step: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def test_nat_balancing_failure_and_director_failover(lab, implementation):
    need_netns()
    py = implementation("keepalived-py", features=("vrrp", "ipvs"))
    la = lab(TOPO)
    backends = [la.addr(b) for b in ("b1", "b2", "b3")]
    names = dict(zip(backends, ("b1", "b2", "b3"), strict=True))
    servers = {b: la.spawn(b, [sys.executable, "-c", SERVER, b], what=f"server-{b}") for b in ("b1", "b2", "b3")}
    vips = la.watch_addresses(["d1", "d2"])
    extra = ("--lvs-backend=userspace",)
    d1 = la.start_daemon("d1", py, conf(150, backends), extra=extra)
    assert vips.wait_for(VIP, node="d1", timeout=30) is not None
    d2 = la.start_daemon("d2", py, conf(100, backends), extra=extra)

    # every real server answers through the VIP (the checkers have run, the proxies listen)
    def all_seen() -> bool:
        return {w for _, w in client(la, 80, 6)} == set(names.values())
    assert wait_until(all_seen, 40), client(la, 80, 6)

    rr = Counter(w for _, w in client(la, 80, 30))
    assert rr == {"b1": 10, "b2": 10, "b3": 10}, rr
    wrr = Counter(w for _, w in client(la, 81, 60))
    assert wrr == {"b1": 30, "b2": 20, "b3": 10}, wrr

    # b2's listener stops: new connections avoid it within the detection bound
    t0 = la.kill(servers["b2"])
    seen = client(la, 80, int((DETECT + 4) / 0.1), gap=0.1)
    bad = [t for t, w in seen if w in ("b2",) or w.startswith("error") or w == "empty"]
    last_bad = max(bad, default=t0)
    assert last_bad - t0 <= DETECT + 1.0, (last_bad - t0, seen)
    tail = [w for t, w in seen if t > last_bad]
    assert tail and set(tail) <= {"b1", "b3"}, seen

    # the MASTER director dies (kill -9, every process): the BACKUP takes the VIP and serves
    t_kill = la.kill(d1)
    taken = vips.wait_for(VIP, node="d2", after=t_kill, timeout=15)
    assert taken is not None, "the BACKUP did not take the VIP"

    def served() -> bool:
        return {w for _, w in client(la, 80, 4)} == {"b1", "b3"}
    assert wait_until(served, 20), client(la, 80, 4)
    la.terminate(d2)
