"""BFD_CHECK end to end on the host, in namespaces, with the userspace IPVS backend (the host
kernel has no IPVS): a keepalived-py director whose real server b1 is checked by BFD_CHECK
on a bfd_instance with b1 (real keepalived 2.2.7 runs the other end there), b2 by TCP_CHECK.

- once the session is Up, a client reaches both real servers through the virtual server;
- kill -9 of b1's BFD speaker (b1's service still answers): the director's session expires,
  'BFD check of [...] is DOWN', b1 leaves the table and new connections go to b2 only;
- the speaker comes back: the session comes Up, b1 is added again and serves.
The bounds are loose on purpose (a loaded CI machine); the protocol's own timing (detection
time) is judged on capture timestamps in test_bfd_interop_keepalived.py and make bench.
"""

from __future__ import annotations

import sys
import time

import pytest

from tests.envcheck import need_netns
from tests.integration.test_bfd_support import bfd_conf

pytestmark = [pytest.mark.root, pytest.mark.slow]

TOPO = """
bridge lan 192.0.2.0/24
router d1 lan
client c lan
backend b1 lan
backend b2 lan
"""

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
vip, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    try:
        s = socket.create_connection((vip, 80), timeout=2)
        s.settimeout(2)
        data = s.recv(100).decode().strip() or "empty"
        s.close()
    except OSError as e:
        data = "error:" + type(e).__name__
    print(f"{time.monotonic():.3f} {data}", flush=True)
"""


def director_conf(vip: str, b1: str, b2: str) -> str:
    return f"""global_defs {{
    router_id d1
}}
bfd_instance to_b1 {{
    neighbor_ip {b1}
    source_ip {vip}
    min_rx 50
    min_tx 50
    multiplier 3
}}
virtual_server {vip} 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server {b1} 8080 {{
        BFD_CHECK {{
            name to_b1
        }}
    }}
    real_server {b2} 8080 {{
        TCP_CHECK {{
            connect_timeout 1
            retry 0
            warmup 0
        }}
    }}
}}
"""


def seen(la, vip: str, n: int = 6) -> set[str]:
    r = la.exec("c", [sys.executable, "-c", CLIENT, vip, str(n)], timeout=60)
    return {line.split(" ", 1)[1] for line in r.stdout.splitlines() if " " in line}


def wait_until(pred, timeout: float, step: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def test_bfd_check_takes_the_real_server_out_and_back(lab, implementation, keepalived_impl):
    need_netns()
    py = implementation("keepalived-py", features=("bfd", "ipvs"))
    la = lab(TOPO)
    vip, b1, b2 = la.addr("d1"), la.addr("b1"), la.addr("b2")
    for b in ("b1", "b2"):
        la.spawn(b, [sys.executable, "-c", SERVER, b], what=f"server-{b}")
    peer = la.start_daemon("b1", keepalived_impl, bfd_conf("to_d1", vip, b1), name="peer1")
    d1 = la.start_daemon("d1", py, director_conf(vip, b1, b2), extra=("--lvs-backend=userspace",))
    rs1 = f"[{b1}]:tcp:8080"

    assert wait_until(lambda: seen(la, vip) == {"b1", "b2"}, 60), (seen(la, vip), d1.output()[-3000:])
    assert f"BFD check of [to_b1] RS({rs1}) is UP" in d1.output(), d1.output()[-3000:]

    # the bfd child's first report (Down, at its start) took b1 out once already: count
    down, removed = f"BFD check of [to_b1] RS({rs1}) is DOWN", f"Removing service {rs1} from VS [{vip}]:tcp:80"
    n_down, n_removed = d1.output().count(down), d1.output().count(removed)
    la.kill(peer)
    assert wait_until(lambda: d1.output().count(down) > n_down, 20), d1.output()[-3000:]
    assert d1.output().count(removed) > n_removed, d1.output()[-3000:]
    assert wait_until(lambda: seen(la, vip, 8) == {"b2"}, 20), seen(la, vip, 8)
    assert seen(la, vip, 10) == {"b2"}          # stays out while the session is down

    n_up = d1.output().count(f"BFD check of [to_b1] RS({rs1}) is UP")
    la.start_daemon("b1", keepalived_impl, bfd_conf("to_d1", vip, b1), name="peer2")
    assert wait_until(lambda: d1.output().count(f"BFD check of [to_b1] RS({rs1}) is UP") > n_up, 30), \
        d1.output()[-3000:]
    assert wait_until(lambda: seen(la, vip) == {"b1", "b2"}, 20), seen(la, vip)
    la.terminate(d1)
