"""The check child in the metrics endpoint, in --status and in the reload preview, while a
real server goes down and comes back (lab, namespaces, `--lvs-backend=userspace`: the host kernel has no IPVS).

One keepalived-py director with a NAT virtual server on its own address and two real
servers, `--metrics-listen` on its loopback; a client connects through the director. The
scrapes (parsed with prometheus_client's text parser) show both real servers up, the
IPVS counters (the userspace dataplane's own) counting the client's connections and bytes
by destination, probe durations; then b2's listener stops: b2 is down, out of IPVS, its
weight sum gone from the quorum line, and `--status` (table and --json) says so; b2 starts
again and everything says up again. Last, `-t -f NEW --reload-preview --json` lists the real
servers a HUP to NEW adds, removes and reweights, and the table after the HUP (--status
--json) differs from the one before by exactly those (issue 19, acceptance 4, IPVS side).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter

import pytest

from tests.envcheck import need_netns
from tests.integration.test_check_e2e_userspace import CLIENT, SERVER, wait_until
from tests.integration.test_metrics_failover import parse

pytestmark = [pytest.mark.root, pytest.mark.slow]

TOPO = """
bridge lan 192.0.2.0/24
router d1 lan
client c lan
backend b1 lan
backend b2 lan
"""
PORT = 9651


def conf(vip: str, backends: list[str]) -> str:
    rs = "".join(f"    real_server {a} 8080 {{\n        weight {w}\n        TCP_CHECK {{\n"
                 "            connect_timeout 1\n            retry 0\n            warmup 0\n        }\n    }\n"
                 for a, w in zip(backends, (3, 2), strict=True))
    return f"""global_defs {{
    router_id d1
}}
virtual_server {vip} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
{rs}}}
"""


def scrape(la) -> dict:
    r = la.exec("d1", ["curl", "-s", "-m", "3", f"http://127.0.0.1:{PORT}/metrics"], check=False)
    return parse(r.stdout) if r.returncode == 0 and r.stdout else {}


def status(pidfile, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "keepalived_py.cli", "--status", "-p", str(pidfile), *extra],
                          capture_output=True, text=True, timeout=30)


def row(table: str, rs: str) -> list[str]:
    """A real server's HEALTH, WEIGHT, IPVS and CHECKERS cells in the --status table."""
    lines = [ln for ln in table.splitlines() if rs in ln.split()]
    assert len(lines) == 1, table
    return lines[0].split()[-4:]


def test_real_server_down_and_back_in_metrics_and_status(lab, implementation):
    need_netns()
    py = implementation("keepalived-py", features=("ipvs",))
    la = lab(TOPO)
    vip = la.addr("d1")
    b1, b2 = la.addr("b1"), la.addr("b2")
    servers = {b: la.spawn(b, [sys.executable, "-c", SERVER, b], what=f"server-{b}") for b in ("b1", "b2")}
    d1 = la.start_daemon("d1", py, conf(vip, [b1, b2]),
                         extra=("--lvs-backend=userspace", "--metrics-listen", f"127.0.0.1:{PORT}"))
    vs = f"[{vip}]:tcp:80"
    rs1, rs2 = f"[{b1}]:tcp:8080", f"[{b2}]:tcp:8080"
    svc = f"TCP {vip}:80"

    def key(name: str, **labels: str) -> tuple[str, tuple]:
        return (name, tuple(sorted(labels.items())))

    def up(s: dict, rs: str) -> float | None:
        return s.get(key("keepalived_check_real_server_up", virtual_server=vs, real_server=rs))

    def probed(s: dict, rs: str) -> float:
        return s.get(key("keepalived_check_latency_seconds_count", virtual_server=vs, real_server=rs,
                         checker="TCP"), 0)

    # keepalived starts a real server alive; wait for both checkers' first probes too
    assert wait_until(lambda: (lambda s: up(s, rs1) == up(s, rs2) == 1 and probed(s, rs1) and probed(s, rs2))(
        scrape(la)), 60), scrape(la)

    # traffic through the userspace dataplane: its counters, by destination
    r = la.exec("c", [sys.executable, "-c", CLIENT, vip, "80", "12", "0"], timeout=60)
    answers = Counter(line.split(" ", 1)[1] for line in r.stdout.splitlines())
    assert set(answers) == {"b1", "b2"} and sum(answers.values()) == 12, answers   # wrr 3:2
    s = scrape(la)
    assert s[key("keepalived_ipvs_service_connections_total", service=svc)] >= 12
    for addr, name in ((b1, "b1"), (b2, "b2")):
        dest = f"{addr}:8080"
        assert s[key("keepalived_ipvs_destination_connections_total", service=svc, destination=dest)] >= answers[name]
        # each answer is the server's name and a newline, server -> client: "out"
        assert s[key("keepalived_ipvs_destination_bytes_total", service=svc, destination=dest,
                     direction="out")] >= answers[name] * 3
    assert s[key("keepalived_check_real_server_weight", virtual_server=vs, real_server=rs1)] == 3
    assert s[key("keepalived_up")] == 1   # no vrrp child: the check child's answer counts
    assert s[key("keepalived_check_virtual_server_weight_sum", virtual_server=vs)] == 5
    assert 0 < s[key("keepalived_check_last_latency_seconds", virtual_server=vs, real_server=rs2,
                     checker="TCP")] < 1.0   # connect_timeout bounds a passing probe

    table = status(d1.pidfiles.main)
    assert table.returncode == 0, table.stderr
    assert row(table.stdout, rs1) == ["up", "3", "in", "TCP:up"], table.stdout
    assert row(table.stdout, rs2) == ["up", "2", "in", "TCP:up"], table.stdout

    # b2's listener stops: down in the scrape and the status
    la.kill(servers["b2"])
    assert wait_until(lambda: up(scrape(la), rs2) == 0, 20), scrape(la)
    s = scrape(la)
    assert s[key("keepalived_check_real_server_in_ipvs", virtual_server=vs, real_server=rs2)] == 0
    assert s[key("keepalived_check_real_server_failed_checkers", virtual_server=vs, real_server=rs2)] == 1
    assert s[key("keepalived_check_virtual_server_weight_sum", virtual_server=vs)] == 3
    assert up(s, rs1) == 1
    table = status(d1.pidfiles.main)
    assert row(table.stdout, rs2) == ["DOWN", "2", "-", "TCP:down"], table.stdout
    assert row(table.stdout, rs1) == ["up", "3", "in", "TCP:up"], table.stdout
    as_json = status(d1.pidfiles.main, "--json")
    assert as_json.returncode == 0, as_json.stderr
    check = json.loads(as_json.stdout)["check"]
    rs = {r["name"]: r for r in check["virtual_servers"][0]["real_servers"]}
    assert rs[rs2]["alive"] is False and rs[rs2]["in_table"] is False and rs[rs1]["alive"] is True

    # b2 again: up everywhere
    la.spawn("b2", [sys.executable, "-c", SERVER, "b2"], what="server-b2-again")
    assert wait_until(lambda: up(scrape(la), rs2) == 1, 20), scrape(la)
    check = json.loads(status(d1.pidfiles.main, "--json").stdout)["check"]
    rs = {r["name"]: r for r in check["virtual_servers"][0]["real_servers"]}
    assert rs[rs2]["alive"] is True and rs[rs2]["in_table"] is True and rs[rs2]["weight"] == 2

    # the reload preview's IPVS part is what the HUP then does to the table
    extra_rs = la.addr("c")   # a real server without checkers: alive from the start
    new = _new_conf(vip, b1, extra_rs)
    path = la.workdir / "new.conf"
    path.write_text(new)
    same = preview(la, d1, d1.conf)["ipvs"]
    assert same["changes"] is False, same
    p = preview(la, d1, path)["ipvs"]
    before = dests(d1)
    d1.conf.write_text(new)
    d1.signal(signal.SIGHUP)
    assert wait_until(lambda: dests(d1) != before, 30), before
    after = dests(d1)
    assert p["destinations_added"] == [f"{svc} -> {k} weight {w}" for k, w in sorted(after.items())
                                       if k not in before]
    assert p["destinations_removed"] == [f"{svc} -> {k}" for k in sorted(before) if k not in after]
    assert p["destinations_reweighted"] == [f"{svc} -> {k} weight {before[k]} -> {after[k]}"
                                            for k in sorted(after) if k in before and before[k] != after[k]]
    assert p["destinations_added"] and p["destinations_removed"] and p["destinations_reweighted"], p
    assert wait_until(lambda: preview(la, d1, d1.conf)["ipvs"]["changes"] is False, 10)
    la.terminate(d1)


def _new_conf(vip: str, b1: str, extra_rs: str) -> str:
    """b1 reweighted 3 -> 4, b2 gone, a real server without checkers added."""
    return f"""global_defs {{
    router_id d1
}}
virtual_server {vip} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server {b1} 8080 {{
        weight 4
        TCP_CHECK {{
            connect_timeout 1
            retry 0
            warmup 0
        }}
    }}
    real_server {extra_rs} 9999 {{
        weight 1
    }}
}}
"""


def preview(la, daemon, conf_path) -> dict:
    r = la.exec("d1", [sys.executable, "-m", "keepalived_py.cli", "-t", "-f", str(conf_path), "--reload-preview",
                       "--json", "-p", str(daemon.pidfiles.main)], check=False, timeout=90)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def dests(daemon) -> dict[str, int]:
    """The check child's table for the virtual server, "addr:port" -> weight (--status --json)."""
    r = status(daemon.pidfiles.main, "--json")
    assert r.returncode == 0, r.stderr
    vs = json.loads(r.stdout)["check"]["virtual_servers"][0]
    return {f"{d['address']}:{d['port']}": d["weight"] for d in vs["destinations"]}
