"""sorry_server and inhibit_on_failure end to end on the userspace dataplane (issue 18's
scope: the balancer honours them with the checkers' changes), in namespaces with
`--lvs-backend=userspace` (the host kernel has no IPVS).

One keepalived-py director with two NAT virtual servers on its own address, a client, two
real servers and a sorry server, each in its own namespace:
- port 80 has a sorry_server: once both real servers' listeners stop, clients reach the
  sorry server; when one real server returns, clients reach it and the sorry server leaves
  the dataplane's table;
- port 81's b1 has inhibit_on_failure: when its listener stops it stays in the dataplane's
  table with weight 0 (the check child's table says 0; the dataplane's counters show it
  gets no new connection while clients keep coming), and takes connections again when it
  returns.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

import pytest

from tests.envcheck import need_netns
from tests.integration.test_check_e2e_userspace import CLIENT, wait_until
from tests.integration.test_metrics_check import status

pytestmark = [pytest.mark.root, pytest.mark.slow]

TOPO = """
bridge lan 192.0.2.0/24
router d1 lan
client c lan
backend b1 lan
backend b2 lan
backend s lan
"""

SERVER = r"""
import socket, sys
name, port = sys.argv[1].encode(), int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port)); s.listen(128)
while True:
    c, _ = s.accept()
    try:
        c.sendall(name + b"\n")
    except OSError:
        pass
    c.close()
"""


INHIBIT = "        inhibit_on_failure\n"


def conf(vip: str, b1: str, b2: str, sorry: str) -> str:
    def rs(addr: str, port: int, weight: int, extra: str = "") -> str:
        return (f"    real_server {addr} {port} {{\n        weight {weight}\n{extra}"
                "        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n"
                "            warmup 0\n        }\n    }\n")
    return f"""global_defs {{
    router_id d1
}}
virtual_server {vip} 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    sorry_server {sorry} 8080
{rs(b1, 8080, 1)}{rs(b2, 8080, 1)}}}
virtual_server {vip} 81 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
{rs(b1, 8081, 2, INHIBIT)}{rs(b2, 8081, 1)}}}
"""


def test_sorry_server_and_inhibit_on_failure_on_the_userspace_dataplane(lab, implementation):
    need_netns()
    py = implementation("keepalived-py", features=("ipvs",))
    la = lab(TOPO)
    vip, b1, b2, sorry = la.addr("d1"), la.addr("b1"), la.addr("b2"), la.addr("s")

    def serve(node: str, port: int, what: str = ""):
        return la.spawn(node, [sys.executable, "-c", SERVER, node, str(port)], what=f"{node}-{port}{what}")

    servers = {(n, p): serve(n, p) for n in ("b1", "b2") for p in (8080, 8081)}
    serve("s", 8080)
    d1 = la.start_daemon("d1", py, conf(vip, b1, b2, sorry), extra=("--lvs-backend=userspace",))

    def answers(port: int, n: int) -> Counter:
        r = la.exec("c", [sys.executable, "-c", CLIENT, vip, str(port), str(n), "0"], timeout=60)
        return Counter(line.split(" ", 1)[1] for line in r.stdout.splitlines())

    def check() -> dict:
        r = status(d1.pidfiles.main, "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)["check"]

    def dataplane(port: int) -> dict[str, dict]:
        """The userspace dataplane's own table for VIP:port: destination -> its counters."""
        svc = f"TCP {vip}:{port}"
        recs = [r for r in check()["ipvs"] or [] if r["service"] == svc]
        return {d["destination"]: d for d in recs[0]["destinations"]} if recs else {}

    def weights(port: int) -> dict[str, int]:
        """The check child's table (what it asked the dataplane for): destination -> weight."""
        vs = [v for v in check()["virtual_servers"] if v["name"].endswith(f":{port}")]
        assert len(vs) == 1, check()["virtual_servers"]
        return {f"{d['address']}:{d['port']}": d["weight"] for d in vs[0]["destinations"]}

    assert wait_until(lambda: set(answers(80, 4)) == {"b1", "b2"} and set(answers(81, 6)) == {"b1", "b2"}, 60), \
        (answers(80, 4), answers(81, 6))
    assert set(dataplane(80)) == {f"{b1}:8080", f"{b2}:8080"}, dataplane(80)

    # sorry_server: both real servers of port 80 stop listening -> clients reach the sorry server
    t0 = time.monotonic()
    la.kill(servers[("b1", 8080)])
    la.kill(servers[("b2", 8080)])
    assert wait_until(lambda: answers(80, 4) == {"s": 4}, 30), answers(80, 4)
    print(f"sorry server serving {time.monotonic() - t0:.1f} s after both listeners stopped")
    assert wait_until(lambda: set(dataplane(80)) == {f"{sorry}:8080"}, 10), dataplane(80)

    # one real server returns -> clients reach it, the sorry server leaves the table
    t0 = time.monotonic()
    serve("b2", 8080, "-again")
    assert wait_until(lambda: answers(80, 4) == {"b2": 4}, 30), answers(80, 4)
    print(f"real server serving again {time.monotonic() - t0:.1f} s after it listened")
    assert wait_until(lambda: set(dataplane(80)) == {f"{b2}:8080"}, 10), dataplane(80)

    # inhibit_on_failure: b1:8081 stops -> kept with weight 0, no new connection reaches it
    rs1 = f"{b1}:8081"
    la.kill(servers[("b1", 8081)])
    assert wait_until(lambda: weights(81).get(rs1) == 0, 30), weights(81)
    assert weights(81) == {rs1: 0, f"{b2}:8081": 1}, weights(81)
    # (the dataplane takes the check child's change in the same reconcile: wait for it to serve so)
    assert wait_until(lambda: answers(81, 3) == {"b2": 3}, 10), answers(81, 3)
    before = dataplane(81)
    assert rs1 in before, before           # still in the dataplane's table, not removed
    got = answers(81, 12)
    assert got == {"b2": 12}, got
    after = dataplane(81)
    assert after[rs1]["conns"] == before[rs1]["conns"], (before, after)
    assert after[f"{b2}:8081"]["conns"] >= before[f"{b2}:8081"]["conns"] + 12, (before, after)

    # b1:8081 returns -> its weight back, connections again (wrr by weight 2:1)
    serve("b1", 8081, "-again")
    assert wait_until(lambda: weights(81).get(rs1) == 2, 30), weights(81)
    assert wait_until(lambda: "b1" in answers(81, 3), 10), answers(81, 3)
    got = answers(81, 12)
    assert got == {"b1": 8, "b2": 4}, got
    la.terminate(d1)
