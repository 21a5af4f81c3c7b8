"""VRRP features that need the qemu guest's kernel (IPVS, ipvlan), keepalived 2.2.7 and
keepalived-py in turn on the same configs, all in one guest boot (a module fixture):

- the IPVS sync daemon driven by the vrrp child: `ipvsadm -L --daemon` while MASTER (an
  address owner, so at once), and after a stop (none left);
- use_ipvlan (the host kernel here has no ipvlan): the link keepalived makes - `ip -d link`
  says ipvlan mode l2 private on the instance's interface - with the line's address (and
  no IPv6), the VIP on the configured interface while MASTER, the link gone after a stop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.envcheck import keepalived_binary
from tests.guestcheck import need_guest

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.guest, pytest.mark.slow, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[2]
CONF = """
global_defs {
    router_id guest
}
vrrp_instance VI_1 {
    state MASTER
    interface kpysd0
    virtual_router_id 51
    priority 255
    advert_int 1
    lvs_sync_daemon_interface kpysd0
    virtual_ipaddress {
        192.0.2.100/24
    }
}
"""
IPVLAN_CONF = """
global_defs {
    router_id guest
}
vrrp_instance VI_2 {
    interface kpysd0
    virtual_router_id 52
    priority 255
    advert_int 1
    use_ipvlan kpyipv 192.0.2.52/24 private
    virtual_ipaddress {
        192.0.2.152/24
    }
}
"""
SETUP = ("ip link add kpysd0 type dummy && ip link set kpysd0 multicast on && "
         "ip addr add 192.0.2.1/24 dev kpysd0 && ip link set kpysd0 up && ip link set lo up")


def _run(argv: str) -> str:
    return (f"{argv} -n -l -f $KPY_SCRATCH/k.conf -p /tmp/k.pid -r /tmp/v.pid -c /tmp/c.pid > /tmp/d.log 2>&1 & "
            "D=$!; for i in $(seq 1 60); do ipvsadm -L --daemon | grep -q master && break; sleep 1; done; "
            "echo RUNNING; ipvsadm -L --daemon; kill -TERM $D; wait $D; echo STOPPED; ipvsadm -L --daemon; "
            "echo LOG; tail -5 /tmp/d.log")


def _run_ipvlan(argv: str) -> str:
    return (f"{argv} -n -l -f $KPY_SCRATCH/ipvlan.conf -p /tmp/k.pid -r /tmp/v.pid -c /tmp/c.pid "
            "> /tmp/i.log 2>&1 & D=$!; "
            "for i in $(seq 1 120); do ip -o addr show | grep -q 192.0.2.152 && break; "
            "sleep 1; done; echo RUNNING; ip -d -o link show kpyipv; ip -o addr show dev kpyipv; "
            "ip -o -4 addr show dev kpysd0; "
            "kill -TERM $D; wait $D; echo STOPPED; ip -o link show kpyipv; echo LOG; tail -5 /tmp/i.log")


@pytest.fixture(scope="module")
def steps() -> tuple[str, str, str, str]:
    """(keepalived sync daemon, keepalived-py sync daemon, keepalived ipvlan, keepalived-py
    ipvlan) outputs, from one guest boot."""
    need_guest()
    ka_bin = keepalived_binary()
    from conformance.guest import run_in_guest

    py_bin = f"cd {REPO} && {REPO}/.venv/bin/keepalived-py"
    res = run_in_guest([SETUP, _run(ka_bin), _run(py_bin), _run_ipvlan(ka_bin), _run_ipvlan(py_bin)],
                       timeout=480, files={"k.conf": CONF, "ipvlan.conf": IPVLAN_CONF},
                       modules=("ip_vs", "dummy", "ipvlan"), keep_going=True)
    return tuple(s.output for s in res.steps[1:5])  # type: ignore[return-value]


def test_sync_daemon_matches_keepalived_in_the_guest(steps):
    ka, py = steps[0], steps[1]
    print("keepalived:\n" + ka + "\nkeepalived-py:\n" + py)

    def daemons(out: str, part: str) -> list[str]:
        text = out.split(part, 1)[1].split("STOPPED" if part == "RUNNING" else "LOG", 1)[0]
        return [line.strip() for line in text.splitlines() if "sync daemon" in line]
    assert daemons(ka, "RUNNING") == ["master sync daemon (mcast=kpysd0, syncid=0, maxlen=1472, "
                                      "group=224.0.0.81, port=8848, ttl=1)"], ka
    assert daemons(py, "RUNNING") == daemons(ka, "RUNNING")
    assert daemons(ka, "STOPPED") == [] and daemons(py, "STOPPED") == []


def _ipvlan_facts(out: str) -> tuple[str, list[tuple[str, str]], str]:
    """(the link's kind and mode, (interface, address) of every address on the ipvlan and
    the instance's IPv4 ones on its interface, what `ip link` says after the stop)."""
    running = out.split("RUNNING", 1)[1].split("STOPPED", 1)[0]
    stopped = out.split("STOPPED", 1)[1].split("LOG", 1)[0].strip()
    kind = re.search(r"ipvlan\s+mode\s+\S+\s+\S+", running)
    addrs = sorted((m.group(1), m.group(2)) for m in re.finditer(r"^\d+: (\S+)\s+inet6? (\S+)", running, re.M)
                   if m.group(1) == "kpyipv" or m.group(2) == "192.0.2.152/24")
    return (" ".join(kind.group(0).split()) if kind else ""), addrs, ("gone" if "does not exist" in stopped else "left")


def test_use_ipvlan_link_matches_keepalived_in_the_guest(steps):
    ka, py = steps[2], steps[3]
    print("keepalived:\n" + ka + "\nkeepalived-py:\n" + py)
    # keepalived: the line's address on the ipvlan (IPv6 off there: an IPv4 instance), the
    # VIP on the configured interface (vrrp.c moves VIPs onto the instance's link only for
    # a VMAC), the link removed at stop
    assert _ipvlan_facts(ka) == ("ipvlan mode l2 private", [("kpyipv", "192.0.2.52/24"), ("kpysd0", "192.0.2.152/24")],
                                 "gone"), ka
    assert _ipvlan_facts(py) == _ipvlan_facts(ka), py
