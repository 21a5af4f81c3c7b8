"""The userspace schedulers against the kernel's (acceptance 1 of issue 18, second half).

In the qemu guest, for each lb_algo (and the sh/mh port and fallback flags, and persistence
with a granularity), ipvsadm programs a NAT service with three real servers of weights
1, 2, 3; local sockets bound to chosen source addresses and ports then send one SYN each to
the VIP (IPVS schedules locally generated traffic at LOCAL_OUT, so nothing needs to answer);
`ipvsadm -Lnc` gives the real server the kernel chose for each. The same sequence goes
through lvs.userspace's Balancer (same operations, same order), in the guest too, and the
choices must be the same. The kernel counts these locally originated, never answered
connections as active (ovf's, sed's and lblc's sequences show it), so the model marks each
established: the schedulers are compared on the same counts. Each case has its own real
servers and source ports (the kernel revives a re-added real server from its trash with its
counts, and a SYN matching an old entry is not scheduled). twos is random: left out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.guestcheck import need_guest

REPO = Path(__file__).resolve().parents[2]

SETUP = """\
ip link add kpydp0 type dummy
ip addr add 192.0.2.1/24 dev kpydp0
ip addr add 198.51.100.254/24 dev kpydp0
ip link set kpydp0 up
for i in $(seq 10 49); do ip addr add 192.0.2.$i/32 dev kpydp0; done
for m in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh; do modprobe ip_vs_$m; done
"""

GUEST = r'''
import ipaddress, json, socket, subprocess, sys
sys.path.insert(0, sys.argv[1])
from keepalived_py.lvs.diff import AddDest, AddService, SetDest
from keepalived_py.lvs.table import (PROTO_TCP, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2,
                                     Destination, DestKey, Service, ServiceKey)
from keepalived_py.lvs.userspace.balancer import Balancer

A = ipaddress.ip_address
VIP = "192.0.2.100"
#: per case its own real servers: the kernel brings a re-added real server back from its
#: trash with its old connection counts
WEIGHTS = (1, 2, 3)
#: per case its own source ports: the connection entries of a case outlive `ipvsadm -C`,
#: and a SYN that matches one is not scheduled again
SOURCES = [(f"192.0.2.{10 + i % 40}", i) for i in range(60)]
CASES = {
    "rr": ("rr", "", 0), "wrr": ("wrr", "", 0), "lc": ("lc", "", 0), "wlc": ("wlc", "", 0),
    "lblc": ("lblc", "", 0), "lblcr": ("lblcr", "", 0), "dh": ("dh", "", 0), "sh": ("sh", "", 0),
    "sh-port": ("sh", "-b sh-port", SVC_F_SCHED2), "sed": ("sed", "", 0), "nq": ("nq", "", 0),
    "fo": ("fo", "", 0), "ovf": ("ovf", "", 0), "mh": ("mh", "", 0),
    "mh-port": ("mh", "-b mh-port", SVC_F_SCHED2),
    "wrr-persistent-/28": ("wrr", "-p 300 -M 255.255.255.240", SVC_F_PERSISTENT),
}


def run(cmd):
    subprocess.run(cmd, shell=True, check=True)


def kernel(sched, opts, quiesce, base, DESTS):
    run("ipvsadm -C")
    run(f"ipvsadm -A -t {VIP}:80 -s {sched} {opts}")
    for d, w in DESTS:
        run(f"ipvsadm -a -t {VIP}:80 -r {d}:80 -m -w {w}")
    if quiesce:
        run(f"ipvsadm -e -t {VIP}:80 -r {DESTS[2][0]}:80 -m -w 0")
    socks = []
    for src, sport in SOURCES:
        s = socket.socket()
        s.setblocking(False)
        s.bind((src, base + sport))
        try:
            s.connect((VIP, 80))
        except BlockingIOError:
            pass
        socks.append(s)
    out = subprocess.run(["ipvsadm", "-Lnc"], capture_output=True, text=True, check=True).stdout
    chosen = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 6 and f[0] == "TCP":
            chosen[f[3]] = f[5].rsplit(":", 1)[0]
    for s in socks:
        s.close()
    return [chosen.get(f"{src}:{base + sport}", "?") for src, sport in SOURCES]


def ours(sched, flags, quiesce, base, DESTS):
    b = Balancer()
    key = ServiceKey(4, PROTO_TCP, A(VIP), 80)
    netmask = 0xFFFFFFF0 if flags & SVC_F_PERSISTENT else 0xFFFFFFFF
    timeout = 300 if flags & SVC_F_PERSISTENT else 0
    ops = [AddService(Service(key, sched, flags, timeout, netmask))]
    ops += [AddDest(key, Destination(DestKey(A(d), 80), weight=w)) for d, w in DESTS]
    if quiesce:
        ops.append(SetDest(key, Destination(DestKey(A(DESTS[2][0]), 80), weight=0)))
    assert b.apply(ops) == []
    got = []
    for src, sport in SOURCES:
        c = b.connect(key, A(src), base + sport, A(VIP), 0.0)
        if c is not None:
            b.established(c)      # the kernel counts these as active (see the docstring)
        got.append(str(c.dest.key.address) if c else "-")
    return got


base = 20000
for name, (sched, opts, flags) in CASES.items():
    for quiesce in (False, True):
        if quiesce and sched not in ("sh", "mh"):
            continue
        extra = ""
        if quiesce:
            extra = f"{',' if opts else ' -b '}{sched}-fallback"
            fl = flags | SVC_F_SCHED1
        else:
            fl = flags
        label = name + ("+fallback,quiesced" if quiesce else "")
        base += 100
        dests = [(f"198.51.100.{(base - 20000) // 100 * 3 + i}", w) for i, w in enumerate(WEIGHTS)]
        try:
            r = {"case": label, "kernel": kernel(sched, opts + extra, quiesce, base, dests),
                 "ours": ours(sched, fl, quiesce, base, dests)}
        except Exception as exc:
            r = {"case": label, "error": repr(exc)}
        print("KPY-DP-CASE " + json.dumps(r), flush=True)
'''


@pytest.fixture(scope="module")
def guest_choices() -> dict[str, dict]:
    need_guest()
    from conformance.guest import run_in_guest

    cmd = f"cd {REPO} && {REPO}/.venv/bin/python $KPY_SCRATCH/choices.py {REPO}"
    res = run_in_guest([SETUP, cmd], timeout=280, files={"choices.py": GUEST}, keep_going=True)
    out = {}
    for line in res.stdout.splitlines():
        if line.startswith("KPY-DP-CASE "):
            r = json.loads(line[len("KPY-DP-CASE "):])
            out[r["case"]] = r
    if os.environ.get("KPY_DP_GUEST_DUMP"):
        Path(os.environ["KPY_DP_GUEST_DUMP"]).write_text(json.dumps(out, indent=1))
    if not out:
        pytest.fail(f"nothing ran in the guest (rc {res.returncode}):\n{res.stdout[-3000:]}\n{res.console[-2000:]}")
    return out


CASE_NAMES = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sh-port", "sed", "nq", "fo", "ovf", "mh",
              "mh-port", "wrr-persistent-/28", "sh+fallback,quiesced", "sh-port+fallback,quiesced",
              "mh+fallback,quiesced", "mh-port+fallback,quiesced"]


@pytest.mark.guest
@pytest.mark.slow
@pytest.mark.timeout(900)          # one guest at a time on this machine: the boot may wait
@pytest.mark.parametrize("case", CASE_NAMES)
def test_same_choices_as_the_kernel(guest_choices, case):
    r = guest_choices.get(case)
    assert r is not None, f"{case} did not run"
    assert "error" not in r, r["error"]
    # no entry in the kernel's table = no real server available (ovf once all are full)
    kernel = ["-" if x == "?" else x for x in r["kernel"]]
    assert kernel.count("-") < len(kernel), "the kernel made no entry at all"
    assert r["ours"] == kernel
