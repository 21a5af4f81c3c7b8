"""The IPVS sync daemon driven by the vrrp child, on a real IPVS kernel (the qemu guest),
keepalived 2.2.7 and keepalived-py in turn on the same config: `ipvsadm -L --daemon` while
MASTER (an address owner, so at once), and after a stop (none left)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.envcheck import keepalived_binary
from tests.guestcheck import need_guest

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
SETUP = ("ip link add kpysd0 type dummy && ip link set kpysd0 multicast on && "
         "ip addr add 192.0.2.1/24 dev kpysd0 && ip link set kpysd0 up && ip link set lo up")


def _run(argv: str) -> str:
    return (f"{argv} -n -l -f $KPY_SCRATCH/k.conf -p /tmp/k.pid -r /tmp/v.pid -c /tmp/c.pid > /tmp/d.log 2>&1 & "
            "D=$!; for i in $(seq 1 60); do ipvsadm -L --daemon | grep -q master && break; sleep 1; done; "
            "echo RUNNING; ipvsadm -L --daemon; kill -TERM $D; wait $D; echo STOPPED; ipvsadm -L --daemon; "
            "echo LOG; tail -5 /tmp/d.log")


@pytest.mark.root
@pytest.mark.keepalived
@pytest.mark.slow
def test_sync_daemon_matches_keepalived_in_the_guest():
    need_guest()
    ka_bin = keepalived_binary()
    from conformance.guest import run_in_guest

    res = run_in_guest([SETUP, _run(ka_bin), _run(f"cd {REPO} && {REPO}/.venv/bin/keepalived-py")],
                       timeout=300, files={"k.conf": CONF}, modules=("ip_vs", "dummy"), keep_going=True)
    ka, py = res.steps[1].output, res.steps[2].output
    print("keepalived:\n" + ka + "\nkeepalived-py:\n" + py)

    def daemons(out: str, part: str) -> list[str]:
        text = out.split(part, 1)[1].split("STOPPED" if part == "RUNNING" else "LOG", 1)[0]
        return [line.strip() for line in text.splitlines() if "sync daemon" in line]
    assert daemons(ka, "RUNNING") == ["master sync daemon (mcast=kpysd0, syncid=0, maxlen=1472, "
                                      "group=224.0.0.81, port=8848, ttl=1)"], ka
    assert daemons(py, "RUNNING") == daemons(ka, "RUNNING")
    assert daemons(ka, "STOPPED") == [] and daemons(py, "STOPPED") == []
