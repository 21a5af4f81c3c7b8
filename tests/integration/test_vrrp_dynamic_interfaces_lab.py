"""dynamic_interfaces beside keepalived 2.2.7: an instance on an interface that does not
exist at start waits in FAULT, runs (BACKUP, then MASTER with its VIP) once the interface is
created, up and addressed, faults when it is deleted and runs again when it is re-created.
Same FIFO lines in the same order, the VIP on the re-created interface at the end."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.integration.test_vrrp_notify_lab import ONE_ROUTER, FifoReader, lines
from tests.integration.test_vrrp_runtime_support import wait_until

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]

VIP = "203.0.113.10"


def conf(out: Path) -> str:
    return f"""
global_defs {{
    router_id r1
    dynamic_interfaces
    vrrp_notify_fifo {out.with_suffix(".fifo")}
}}
vrrp_instance VI_1 {{
    interface dyn0
    virtual_router_id 61
    priority 100
    advert_int 1
    virtual_ipaddress {{
        {VIP}/32
    }}
}}
"""


def make_dyn(la) -> None:
    for cmd in ("ip link add dyn0 type veth peer name dyn0p", "ip link set dyn0p up", "ip link set dyn0 up",
                "ip addr add 203.0.113.1/24 dev dyn0"):
        la.exec("r1", cmd.split())


def run_dynamic(la, impl, work: Path) -> tuple[list[str], str]:
    out = work / f"{impl.name}-r1-dyn.fifo.log"
    reader = FifoReader(out)
    try:
        r1 = la.start_daemon("r1", impl, conf(out))

        def seen(n: int, what: str):
            wait_until(lambda: sum(x == f'INSTANCE "VI_1" {what} 100' for x in lines(out)) >= n, 15,
                       what=lambda: f"{lines(out)} {r1.output()[-2000:]}")
        seen(1, "FAULT")
        make_dyn(la)
        seen(1, "MASTER")
        la.exec("r1", ["ip", "link", "del", "dyn0"])
        seen(2, "FAULT")
        make_dyn(la)
        seen(2, "MASTER")
        held = la.exec("r1", ["ip", "-o", "addr", "show", "dev", "dyn0"]).stdout
        r1.signal(signal.SIGTERM)
        assert r1.wait(15) == 0, r1.output()[-3000:]
        seen(1, "STOP")
        return lines(out), held
    finally:
        reader.close()
        la.exec("r1", ["ip", "link", "del", "dyn0"], check=False)


def test_dynamic_interface_created_deleted_recreated_like_keepalived(lab, implementation, keepalived_impl, tmp_path):
    py = implementation("keepalived-py", features=("vrrp",))
    ka, ka_held = run_dynamic(lab(ONE_ROUTER), keepalived_impl, tmp_path)
    ours, our_held = run_dynamic(lab(ONE_ROUTER), py, tmp_path)
    print("keepalived:", ka)
    print("keepalived-py:", ours)
    assert ka == ['INSTANCE "VI_1" FAULT 100', 'INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 100',
                  'INSTANCE "VI_1" FAULT 100', 'INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 100',
                  'INSTANCE "VI_1" STOP 100'], ka
    assert ours == ka
    assert VIP in ka_held and VIP in our_held
