"""keepalived 2.2.7's IPVS table beside keepalived-py's plan for the same config, in the guest.

Not a harness scenario (it compares a library, not two daemons): tests/integration/test_lvs_guest.py
boots the guest once and runs `python -m conformance.scenarios.ipvs_plan_parity CASE...` there,
which for each case
1. flushes IPVS, runs the case's `pre` shell (foreign entries), starts real keepalived (-C -I,
   checker-less real servers are alive), waits for its table, stops it (-I leaves the table)
   and dumps it: `ipvsadm -S -n` sorted, and every attribute through the netlink adapter;
2. reconciles that table to our plan through lvs.diff (adopting it: no ops when they agree)
   and checks the result, then changes every weight and threshold in place (SetDest only),
   deletes one destination per service and finally removes all of ours (foreign stay);
3. flushes, runs `pre` again and programs our plan from scratch (lvs.reconcile.start, so
   lvs_flush and lvs_timeouts apply), and dumps the same two ways.
A case with "reload" is about the table after a reload: keepalived gets SIGHUP with the new
text in place; we reconcile the first plan to the second (owning what the first could make).
Each case's result is one JSON line after "KPY-LVS-CASE ".
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

SETUP = """\
ip link add kpylvs0 type dummy
ip addr add 192.0.2.1/24 dev kpylvs0
ip addr add 198.51.100.1/24 dev kpylvs0
ip -6 addr add 2001:db8::1/64 dev kpylvs0 nodad
ip link set kpylvs0 up
for m in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos pe_sip; do modprobe ip_vs_$m || echo "no ip_vs_$m"; done
"""

FOREIGN = ("ipvsadm -A -t 203.0.113.99:1 -s rr && ipvsadm -a -t 203.0.113.99:1 -r 192.0.2.200:1 -m -w 3 "
           "&& ipvsadm -A -f 4242 -s rr")

_G = "global_defs {\n    router_id lvsguest\n}\n"


def _rs(addr: str, port: str = "", body: str = "") -> str:
    return f"    real_server {addr} {port} {{\n{body}    }}\n"


def _vs(head: str, body: str) -> str:
    return f"virtual_server {head} {{\n{body}}}\n"


def _schedulers() -> str:
    algos = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos")
    return _G + "".join(
        _vs(f"192.0.2.10 {1001 + i}", f"    lb_algo {a}\n    lb_kind NAT\n    protocol TCP\n"
            + _rs("192.0.2.11", "8080", "        weight 2\n") + _rs("192.0.2.12", "8081"))
        for i, a in enumerate(algos))


CASES: dict[str, dict[str, str]] = {
    "schedulers": {"conf": _schedulers()},
    "scheduler_flags": {"conf": _G
        + _vs("192.0.2.20 80", "    protocol UDP\n    lb_algo sh\n    sh-port\n    sh-fallback\n    ops\n"
              "    lb_kind DR\n" + _rs("192.0.2.21", "80"))
        + _vs("192.0.2.20 81", "    protocol TCP\n    lb_algo mh\n    mh-port\n    mh-fallback\n    ops\n"
              "    lb_kind DR\n" + _rs("192.0.2.21", "81"))
        + _vs("192.0.2.20 82", "    protocol TCP\n    lb_algo rr\n    flag-1\n    flag-2\n    flag-3\n    hashed\n"
              "    lb_kind NAT\n" + _rs("192.0.2.22", "8082"))
        + _vs("192.0.2.20 83", "    protocol TCP\n    lb_algo rr\n    sh-port\n    mh-fallback\n    lb_kind NAT\n"
              + _rs("192.0.2.22", "8083"))
        + _vs("192.0.2.20 84", "    protocol UDP\n    lb_algo mh\n    mh-port\n    ops\n    lb_kind NAT\n"
              + _rs("192.0.2.22", "8084"))
        + _vs("fwmark 5", "    lb_algo sh\n    sh-fallback\n    ops\n    lb_kind NAT\n" + _rs("192.0.2.23", "80"))},
    "forwarding": {"conf": _G
        + _vs("192.0.2.30 80", "    protocol TCP\n    lb_kind DR\n" + _rs("192.0.2.31", "8080") + _rs("192.0.2.32"))
        + _vs("192.0.2.30 81", "    protocol TCP\n    lb_kind TUN\n" + _rs("192.0.2.33", "81"))
        + _vs("192.0.2.30 82", "    protocol TCP\n    lb_kind TUN type gue port 6080 csum\n"
              + _rs("192.0.2.34")
              + _rs("192.0.2.35", "", "        lvs_method TUN type gre csum\n")
              + _rs("192.0.2.36", "", "        lvs_method TUN type gue port 7000 remcsum\n")
              + _rs("192.0.2.37", "", "        lvs_method TUN type ipip nocsum\n")
              + _rs("192.0.2.38", "", "        lvs_method TUN type gre\n")
              + _rs("198.51.100.5", "8080", "        lvs_method NAT\n"))
        + _vs("192.0.2.30 83", "    protocol TCP\n    lb_kind NAT\n"
              + _rs("192.0.2.39", "", "        lvs_method DR\n") + _rs("192.0.2.31"))
        + _vs("192.0.2.30 84", _rs("192.0.2.31", "9000"))
        + _vs("192.0.2.30 85", "    protocol TCP\n    lb_kind TUN\n" + _rs("2001:db8::30", "85"))},
    "persistence": {"conf": _G
        + _vs("192.0.2.40 80", "    protocol TCP\n    persistence_timeout 600\n    lb_kind NAT\n" + _rs("192.0.2.41", "80"))
        + _vs("192.0.2.40 81", "    protocol TCP\n    persistence_timeout\n    lb_kind NAT\n" + _rs("192.0.2.41", "81"))
        + _vs("192.0.2.40 82", "    protocol TCP\n    persistence_granularity 255.255.255.0\n    lb_kind NAT\n"
              + _rs("192.0.2.41", "82"))
        + _vs("192.0.2.40 83", "    protocol TCP\n    persistence_timeout 50\n    persistence_granularity 255.255.0.0\n"
              "    lb_kind NAT\n" + _rs("192.0.2.41", "83"))
        + _vs("192.0.2.40 0", "    protocol TCP\n    lb_kind DR\n" + _rs("192.0.2.42"))
        + _vs("192.0.2.40 5060", "    protocol UDP\n    persistence_timeout 30\n    persistence_engine sip\n"
              "    lb_kind DR\n" + _rs("192.0.2.42", "5060"))
        + _vs("2001:db8::40 80", "    protocol TCP\n    persistence_timeout 100\n    persistence_granularity 64\n"
              "    lb_kind NAT\n" + _rs("2001:db8::41", "8080"))
        + _vs("fwmark 40", "    persistence_timeout 20\n    persistence_granularity 255.255.255.0\n    lb_kind DR\n"
              + _rs("192.0.2.43"))},
    "fwmark": {"conf": _G
        + _vs("fwmark 1", "    lb_algo rr\n    lb_kind DR\n" + _rs("192.0.2.51", "80"))
        + _vs("fwmark 2", "    lb_kind NAT\n" + _rs("192.0.2.52", "8080") + _rs("192.0.2.53"))
        + _vs("fwmark 3", "    ip_family inet6\n    lb_kind DR\n" + _rs("2001:db8::53"))
        + _vs("fwmark 4", "    protocol TCP\n    lb_kind TUN\n" + _rs("2001:db8::54"))
        + _vs("fwmark 6", "    lb_kind TUN\n" + _rs("2001:db8::55") + _rs("192.0.2.55"))},
    "groups": {"conf": _G
        + "virtual_server_group G4 {\n    192.0.2.60-62 80\n    192.0.2.70 443\n    198.51.100.8/30 8080\n"
          "    fwmark 61\n}\n"
        + _vs("group G4", "    protocol TCP\n    lb_algo wrr\n    lb_kind DR\n    persistence_timeout 60\n"
              "    persistence_granularity 255.255.255.0\n"
              + _rs("192.0.2.65", "", "        weight 3\n") + _rs("192.0.2.66", "8080"))
        + "virtual_server_group G6 {\n    2001:db8::60-62 80\n    2001:db8::1:fffe-2001:db8::1:ffff 81\n"
          "    fwmark 62 inet6\n}\n"
        + _vs("group G6", "    protocol UDP\n    lb_kind NAT\n" + _rs("2001:db8::65", "8080") + _rs("2001:db8::66"))
        + "virtual_server_group GF {\n    fwmark 63\n    fwmark 64 inet6\n}\n"
        + _vs("group GF", "    lb_kind DR\n" + _rs("2001:db8::67"))
        + "virtual_server_group GS {\n    192.0.2.80 80\n}\n"
        + _vs("group GS", "    protocol TCP\n    lb_kind NAT\n" + _rs("192.0.2.81", "8080"))
        + _vs("group GS", "    protocol UDP\n    lb_kind NAT\n" + _rs("192.0.2.82", "8080"))
        + "virtual_server_group GZ {\n    192.0.2.90-91\n    192.0.2.93-192.0.2.94 99\n}\n"
        + _vs("group GZ", "    protocol SCTP\n    lb_kind NAT\n" + _rs("192.0.2.92", "99"))},
    "weights_protocols": {"conf": _G
        + _vs("192.0.2.100 80", "    protocol SCTP\n    lb_algo rr\n    lb_kind NAT\n    weight 5\n"
              + _rs("192.0.2.101") + _rs("192.0.2.102", "", "        weight 0\n")
              + _rs("192.0.2.103", "", "        uthreshold 100\n        lthreshold 10\n")
              + _rs("192.0.2.105", "", "        uthreshold 5\n        lthreshold 10\n"))
        + _vs("2001:db8::100 443", "    protocol TCP\n    lb_algo wrr\n    lb_kind NAT\n"
              + _rs("2001:db8::101", "8443", "        weight 7\n") + _rs("2001:db8::102", "", "        weight 65535\n"))
        + _vs("192.0.2.100 81", "    protocol TCP\n    lb_kind NAT\n"
              + _rs("192.0.2.104", "80", "        weight 4\n") + _rs("192.0.2.104", "80", "        weight 9\n"))
        + _vs("192.0.2.100 82", "    lb_kind NAT\n" + _rs("192.0.2.106", "82"))},
    "inhibit_sorry": {"conf": _G
        + _vs("192.0.2.110 80", "    protocol TCP\n    lb_kind NAT\n    inhibit_on_failure\n"
              + _rs("192.0.2.111", "80", "        weight 3\n        TCP_CHECK {\n            connect_port 1\n"
                    "            connect_timeout 1\n            alpha\n        }\n")
              + _rs("192.0.2.112", "80"))
        + _vs("192.0.2.110 81", "    protocol TCP\n    lb_kind NAT\n"
              + _rs("192.0.2.114", "81", "        TCP_CHECK {\n            connect_port 1\n"
                    "            connect_timeout 1\n            alpha\n        }\n")
              + _rs("192.0.2.115", "81"))
        + _vs("192.0.2.110 82", "    protocol TCP\n    lb_kind NAT\n    sorry_server 192.0.2.119 8080\n"
              + _rs("192.0.2.116", "82", "        weight 0\n"))
        + _vs("192.0.2.110 83", "    protocol TCP\n    lb_kind NAT\n    sorry_server 192.0.2.119 8080\n"
              "    sorry_server_inhibit\n" + _rs("192.0.2.117", "83"))
        + _vs("192.0.2.110 84", "    protocol TCP\n    lb_kind DR\n    quorum 5\n    sorry_server 192.0.2.118\n"
              + _rs("192.0.2.120", "", "        weight 2\n        TCP_CHECK {\n            connect_port 1\n"
                    "            connect_timeout 1\n            alpha\n        }\n")
              + _rs("192.0.2.121", "", "        weight 2\n"))
        + _vs("192.0.2.110 85", "    protocol TCP\n    lb_kind NAT\n    inhibit_on_failure\n    quorum 4\n"
              "    sorry_server 192.0.2.118 8085\n"
              + _rs("192.0.2.122", "85", "        weight 2\n")
              + _rs("192.0.2.123", "85", "        weight 2\n        alpha\n        TCP_CHECK {\n"
                    "            connect_port 1\n            connect_timeout 1\n        }\n"))
        + _vs("192.0.2.110 86", "    protocol TCP\n    lb_kind NAT\n    sorry_server 192.0.2.124 86\n"
              "    sorry_server_lvs_method NAT\n" + _rs("192.0.2.124", "86", "        weight 0\n"))
        + _vs("192.0.2.110 87", "    protocol TCP\n    lb_kind NAT\n    alpha\n"
              + _rs("192.0.2.125", "87", "        TCP_CHECK {\n            connect_port 1\n"
                    "            connect_timeout 1\n        }\n")
              + _rs("192.0.2.126", "87", "        inhibit_on_failure\n        TCP_CHECK {\n"
                    "            connect_port 1\n            connect_timeout 1\n        }\n")
              + _rs("192.0.2.127", "87"))},
    "foreign_entries_kept": {"pre": FOREIGN, "conf": _G
        + _vs("192.0.2.130 80", "    protocol TCP\n    lb_kind NAT\n" + _rs("192.0.2.131", "80"))},
    "lvs_flush_and_timeouts": {"pre": FOREIGN,
        "conf": "global_defs {\n    router_id lvsguest\n    lvs_flush\n    lvs_timeouts tcp 7200 udp 60\n}\n"
        + _vs("192.0.2.140 80", "    protocol TCP\n    lb_kind NAT\n" + _rs("192.0.2.141", "80"))},
}

_RELOAD_FROM = (_G
    + _vs("192.0.2.160 80", "    protocol TCP\n    lb_algo wlc\n    lb_kind NAT\n"
          + _rs("192.0.2.161", "80") + _rs("192.0.2.162", "80", "        weight 2\n")
          + _rs("192.0.2.163", "80", "        weight 3\n"))
    + _vs("192.0.2.160 81", "    protocol TCP\n    lb_algo rr\n    lb_kind DR\n    persistence_timeout 300\n"
          + _rs("192.0.2.164"))
    + _vs("192.0.2.160 82", "    protocol UDP\n    lb_kind NAT\n" + _rs("192.0.2.166", "82"))
    + "virtual_server_group RG {\n    192.0.2.170-171 80\n}\n"
    + _vs("group RG", "    protocol TCP\n    lb_kind NAT\n" + _rs("192.0.2.172", "8080"))
    + _vs("fwmark 50", "    lb_kind DR\n" + _rs("192.0.2.173")))
_RELOAD_TO = (_G
    + _vs("192.0.2.160 80", "    protocol TCP\n    lb_algo wrr\n    lb_kind NAT\n"
          + _rs("192.0.2.161", "80", "        weight 5\n") + _rs("192.0.2.163", "80", "        weight 3\n")
          + _rs("192.0.2.165", "80", "        uthreshold 10\n"))
    + _vs("192.0.2.160 81", "    protocol TCP\n    lb_algo rr\n    lb_kind DR\n    persistence_timeout 600\n"
          "    persistence_granularity 255.255.255.0\n" + _rs("192.0.2.164", "", "        lvs_method TUN\n"))
    + _vs("192.0.2.160 83", "    protocol TCP\n    lb_kind NAT\n" + _rs("192.0.2.167", "83"))
    + "virtual_server_group RG {\n    192.0.2.170-173 80\n}\n"
    + _vs("group RG", "    protocol TCP\n    lb_kind NAT\n" + _rs("192.0.2.172", "8080"))
    + _vs("fwmark 50", "    lb_algo sh\n    sh-port\n    lb_kind DR\n" + _rs("192.0.2.173")))
CASES["reload"] = {"conf": _RELOAD_FROM, "reload": _RELOAD_TO}


def random_config(seed: int, count: int = 12) -> str:
    """`count` virtual servers with options drawn at random (seeded: the same text every run),
    in combinations nobody wrote by hand. Some real servers have an alpha TCP_CHECK against a
    port nothing listens on: they start down and stay down (inhibit, quorum, sorry server)."""
    rnd = random.Random(seed)
    pick = rnd.choice
    out = [_G]
    algos = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh")
    for n in range(count):
        v6 = rnd.random() < 0.3
        net = "2001:db8::" if v6 else "192.0.2."
        vip = f"{net}{(1 if v6 else 150) + n}"
        kind = pick(["addr", "addr", "addr", "fwmark", "group"])
        if kind == "addr":
            head = f"{vip} {pick(['80', '443', '0', '8080'])}"
        elif kind == "fwmark":
            head = f"fwmark {100 + seed * 20 + n}"
        else:
            name = f"R{seed}_{n}"
            end = f"{hex(0x10 + n)[2:]}" if v6 else str(200 + n)
            start = f"{net}{hex(0x8 + n)[2:]}" if v6 else f"{net}{190 + n}"
            body = f"    {start}-{end} {pick(['80', '0', '53'])}\n"
            if rnd.random() < 0.5:
                body += f"    fwmark {300 + seed * 20 + n}{pick(['', ' inet6' if v6 else ' inet'])}\n"
            out.append(f"virtual_server_group {name} {{\n{body}}}\n")
            head = f"group {name}"
        lines = []
        if rnd.random() < 0.8:
            lines.append(f"protocol {pick(['TCP', 'UDP', 'SCTP', 'tcp'])}")
        if v6 and kind == "fwmark":
            lines.append("ip_family inet6")
        algo = pick(algos) if rnd.random() < 0.85 else None
        if algo:
            lines.append(f"lb_algo {algo}")
        lines += rnd.sample(["ops", "sh-port", "sh-fallback", "mh-port", "mh-fallback", "flag-1", "flag-2", "flag-3",
                             "hashed"], rnd.randint(0, 3))
        method = pick(["NAT", "DR", "TUN", "TUN type gue port 6080 csum", "TUN type gre nocsum", None])
        if method:
            lines.append(f"lb_kind {method}")
        if rnd.random() < 0.5:
            lines.append(f"persistence_timeout {pick(['', '30', '900'])}".rstrip())
        if rnd.random() < 0.3:
            lines.append(f"persistence_granularity {pick(['64', '48']) if v6 else pick(['255.255.255.0', '255.255.0.0'])}")
        if rnd.random() < 0.2:
            lines.append("persistence_engine sip")
        if rnd.random() < 0.3:
            lines.append(f"weight {rnd.randint(1, 9)}")
        if rnd.random() < 0.2:
            lines.append("inhibit_on_failure")
        if rnd.random() < 0.3:
            lines.append(f"quorum {rnd.randint(1, 8)}")
            if rnd.random() < 0.5:
                lines.append(f"hysteresis {rnd.randint(0, 3)}")
        if rnd.random() < 0.1:
            lines.append("sorry_server_inhibit")
        if rnd.random() < 0.35:
            lines.append(f"sorry_server {net}{(9 if v6 else 249)} {pick(['', '8080'])}".rstrip())
        rs_net = "2001:db8::" if v6 else "198.51.100."
        for j in range(rnd.randint(1, 4)):
            body = []
            if rnd.random() < 0.4:
                body.append(f"weight {rnd.randint(0, 5)}")
            if rnd.random() < 0.3:
                body.append(f"lvs_method {pick(['NAT', 'DR', 'TUN', 'TUN type gue port 7000 remcsum'])}")
            if rnd.random() < 0.2:
                u = rnd.randint(1, 50)
                body += [f"uthreshold {u}", f"lthreshold {rnd.randint(0, u)}"]
            if rnd.random() < 0.25:   # starts down and stays down: nothing listens on port 1
                body.append("TCP_CHECK {\n            connect_port 1\n            connect_timeout 1\n"
                            "            alpha\n        }")
            if rnd.random() < 0.15:
                body.append(f"inhibit_on_failure{pick(['', ' off'])}")
            port = pick(["", "80", "8080"])
            out_body = "".join(f"        {b}\n" for b in body)
            lines.append(f"real_server {rs_net}{(0x20 if v6 else 20) + j} {port} {{\n{out_body}    }}")
        out.append(f"virtual_server {head} {{\n" + "".join(f"    {x}\n" for x in lines) + "}\n")
    return "".join(out)


for _seed in range(1, 7):
    CASES[f"random_{_seed}"] = {"conf": random_config(_seed)}


# every example configuration with a virtual server, as shipped (its checkers start as
# keepalived starts them; the table is read before any of them can fail)
REPO = Path(__file__).resolve().parents[2]
for _path in sorted((REPO / "examples").glob("*.conf")):
    _text = _path.read_text()
    if "virtual_server" in _text:
        CASES[f"example_{_path.stem}"] = {"conf": _text}

DEFAULT_TIMEOUTS = (900, 120, 300)
KEEPALIVED = "/usr/sbin/keepalived"


# --------------------------------------------------------------------------- in the guest
def _sh(cmd: str) -> str:
    return subprocess.run(["sh", "-c", cmd], capture_output=True, text=True).stdout


def _rules() -> list[str]:
    return sorted(line for line in _sh("ipvsadm -S -n").splitlines() if line.strip())


def _lines(table) -> list[str]:
    out = []
    for svc, dests in table:
        out.append(repr(svc))
        out += ["  " + repr(d) for d in dests]
    return out


def _count(table) -> int:
    return sum(1 + len(d) for _s, d in table)


async def _wait_table(port, want: int, proc: subprocess.Popen, limit_s: float = 12.0) -> float:
    start = last_change = time.monotonic()
    last = -1
    while time.monotonic() - start < limit_s and proc.poll() is None:
        n = _count(await port.dump())
        now = time.monotonic()
        if n != last:
            last, last_change = n, now
        if (n >= want and now - last_change >= 0.6) or (n > 0 and now - last_change >= 2.0):
            break
        await asyncio.sleep(0.2)
    return time.monotonic() - start


async def _wait_change(port, before, proc: subprocess.Popen, limit_s: float = 10.0) -> float:
    """After a reload: until the table differs from `before` and has been stable for 1 s."""
    start = last_change = time.monotonic()
    last = before
    while time.monotonic() - start < limit_s and proc.poll() is None:
        now_table = await port.dump()
        now = time.monotonic()
        if now_table != last:
            last, last_change = now_table, now
        if last != before and now - last_change >= 1.0:
            break
        await asyncio.sleep(0.2)
    return time.monotonic() - start


async def _case(name: str, spec: dict[str, str], scratch: Path) -> dict:
    from keepalived_py.config.loader import load_config
    from keepalived_py.lvs.diff import Owned, SetDest, apply, diff
    from keepalived_py.lvs.kernel import NetlinkIpvs, Timeouts
    from keepalived_py.lvs.plan import desired_table, possible_entries
    from keepalived_py.lvs.reconcile import reconcile, remove, start
    from keepalived_py.lvs.table import Table

    t0 = time.monotonic()
    marks: dict[str, float] = {}

    def mark(what: str) -> None:
        marks[what] = round(time.monotonic() - t0, 2)

    conf = scratch / f"{name}.conf"
    conf.write_text(spec["conf"])
    first = loaded = load_config(str(conf), check_interfaces=False)
    if spec.get("reload"):           # the case is about the table after a reload to this text
        (scratch / f"{name}.next.conf").write_text(spec["reload"])
        loaded = load_config(str(scratch / f"{name}.next.conf"), check_interfaces=False)
    desired = desired_table(loaded.config)
    port = NetlinkIpvs()
    res: dict = {"case": name, "desired": _lines(desired), "seconds": marks}
    mark("planned")
    try:
        await port.flush()
        await port.set_timeouts(Timeouts(*DEFAULT_TIMEOUTS))
        if spec.get("pre"):
            _sh(spec["pre"])
        foreign = await port.dump()
        # 1. real keepalived
        d = Path(f"/tmp/ka-{name}")
        d.mkdir(parents=True, exist_ok=True)
        with open(scratch / f"{name}.ka.log", "w") as log:
            proc = subprocess.Popen([KEEPALIVED, "-n", "-l", "-D", "-C", "-I", "-f", str(conf),
                                     "-p", f"{d}/pid", "-c", f"{d}/check.pid", "-r", f"{d}/vrrp.pid"],
                                    stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "TMPDIR": str(d)})
            want = _count(desired_table(first.config)) + _count(foreign)
            res["ka_wait_s"] = round(await _wait_table(port, want, proc), 2)
            if spec.get("reload"):
                before = await port.dump()
                conf.write_text(spec["reload"])
                proc.send_signal(signal.SIGHUP)
                res["ka_reload_wait_s"] = round(await _wait_change(port, before, proc), 2)
            res["ka_timeouts"] = list(dataclasses.astuple(await port.timeouts()))
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                res["ka_exit"] = proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                res["ka_exit"] = proc.wait()
        mark("keepalived_stopped")
        ka = await port.dump()
        res["ka_rules"], res["ka_table"] = _rules(), _lines(ka)
        res["ka_log"] = (scratch / f"{name}.ka.log").read_text(errors="replace")[-4000:]
        # 2. adopt keepalived's table, then edit every destination in place
        out = await reconcile(port, desired)
        after = await port.dump()
        refused = [f.op for f in out.failures]
        # what the kernel refuses (an unknown scheduler, lthreshold > uthreshold) it refused
        # keepalived too: any other operation means keepalived's table differs from the plan
        res["adopt_ops"] = [repr(o) for o in out.ops if o not in refused]
        res["adopt_refused"] = [f"{f.op!r}: {f.message}" for f in out.failures]
        res["adopt_ok"] = after.restricted(desired.services) == apply(ka, [o for o in out.ops if o not in refused]) \
            .restricted(desired.services)
        # every weight and threshold of what is in the kernel now, changed in place
        bumped = Table.build((s, [dataclasses.replace(x, weight=x.weight + 1, u_threshold=x.u_threshold + 50,
                                                      l_threshold=x.l_threshold + 1) for x in ds])
                             for s, ds in after.restricted(desired.services))
        ops = diff(after, bumped)
        fails = await port.apply(ops)
        edited = await port.dump()
        res["edit_ops"] = len(ops)
        res["edit_all_set"] = bool(ops) and all(isinstance(o, SetDest) for o in ops)
        res["edit_failures"] = [repr(f) for f in fails]
        expect = apply(after, [o for o in ops if not any(f.op == o for f in fails)])
        res["edit_ok"] = edited == expect
        # each of our services loses its first destination (DelDest), then all ours go (DelService)
        thinner = Table.build((s, ds[1:]) for s, ds in edited.restricted(desired.services))
        ops = diff(edited, thinner, Owned.of(edited.restricted(desired.services)))
        fails = await port.apply(ops)
        thinned = await port.dump()
        res["delete_failures"] = [repr(f) for f in fails]
        res["delete_ok"] = bool(ops) and thinned == apply(edited, ops)
        out = await remove(port, Owned.of(thinned.restricted(desired.services)))
        res["remove_failures"] = [repr(f) for f in out.failures]
        res["remove_ok"] = await port.dump() == ka.restricted(set(ka.services) - set(desired.services))
        mark("kernel_ops_checked")
        # 3. our plan from scratch
        await port.flush()
        await port.set_timeouts(Timeouts(*DEFAULT_TIMEOUTS))
        if spec.get("pre"):
            _sh(spec["pre"])
        if spec.get("reload"):
            await start(port, first.config, desired_table(first.config))
            out = await reconcile(port, desired, possible_entries(first.config))
            res["reload_ops"] = [repr(o) for o in out.ops]
        else:
            out = await start(port, loaded.config, desired)
        py = await port.dump()
        res["py_failures"] = [repr(f) for f in out.failures]
        res["py_timeouts"] = list(dataclasses.astuple(await port.timeouts()))
        res["py_rules"], res["py_table"] = _rules(), _lines(py)
        mark("ours_done")
    finally:
        await port.close()
    return res


async def _main(names: list[str]) -> None:
    scratch = Path(os.environ.get("KPY_SCRATCH", "/tmp"))
    for name in names:
        try:
            res = await _case(name, CASES[name], scratch)
        except Exception as exc:  # report and go on with the next case
            import traceback
            res = {"case": name, "error": f"{exc!r}\n{traceback.format_exc()}"}
        print("KPY-LVS-CASE " + json.dumps(res), flush=True)


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1:] or list(CASES)))
