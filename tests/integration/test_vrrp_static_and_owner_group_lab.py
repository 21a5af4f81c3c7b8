"""Two issue-15 behaviours beside keepalived 2.2.7, through the FIFO (same lines, same order):

1. track_group on a static address: the group's instance tracks the address's interface, so
   that interface going down puts it in FAULT (its VIP goes) and back up brings it back.
2. A sync group whose members are address owners (priority 255): the group's weighted
   track_file runs at weight 0, so a non-zero value faults the group instead of moving a
   priority that an owner keeps at 255 anyway.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.integration.test_vrrp_notify_lab import ONE_ROUTER, FifoReader, lines
from tests.integration.test_vrrp_runtime_support import wait_until

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]


def track_group_conf(out: Path) -> str:
    return f"""
global_defs {{
    router_id r1
    vrrp_notify_fifo {out.with_suffix(".fifo")}
}}
track_group TG {{
    group {{
        VI_1
    }}
}}
static_ipaddress {{
    198.51.100.77/24 dev eth1 track_group TG
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 71
    priority 100
    advert_int 1
    virtual_ipaddress {{
        192.0.2.71/32
    }}
}}
"""


def owner_group_conf(out: Path, tf: Path) -> str:
    inst = """
vrrp_instance {name} {{
    state MASTER
    interface {ifname}
    virtual_router_id {vrid}
    priority 255
    advert_int 1
    virtual_ipaddress {{
        {vip}/32
    }}
}}
"""
    return (f"""
global_defs {{
    router_id r1
    vrrp_notify_fifo {out.with_suffix(".fifo")}
}}
track_file tf {{
    file {tf}
    weight 10
}}
vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
    track_file {{
        tf
    }}
}}
""" + inst.format(name="VI_1", ifname="eth0", vrid=72, vip="192.0.2.72")
            + inst.format(name="VI_2", ifname="eth1", vrid=73, vip="198.51.100.73"))


def _wait(out: Path, line: str, n: int, proc) -> None:
    """`n` FIFO lines starting with `line` (the priority may follow)."""
    wait_until(lambda: sum(x.startswith(line) for x in lines(out)) >= n, 15,
               what=lambda: f"{lines(out)} {proc.output()[-2000:]}")


def run_track_group(la, impl, work: Path) -> list[str]:
    out = work / f"{impl.name}-tg.fifo.log"
    reader = FifoReader(out)
    try:
        r1 = la.start_daemon("r1", impl, track_group_conf(out))
        _wait(out, 'INSTANCE "VI_1" MASTER 100', 1, r1)
        la.link_down("r1", "eth1")
        _wait(out, 'INSTANCE "VI_1" FAULT 100', 1, r1)
        la.link_up("r1", "eth1")
        _wait(out, 'INSTANCE "VI_1" MASTER 100', 2, r1)
        r1.signal(signal.SIGTERM)
        assert r1.wait(15) == 0, r1.output()[-3000:]
        _wait(out, 'INSTANCE "VI_1" STOP 100', 1, r1)
        return lines(out)
    finally:
        reader.close()


def run_owner_group(la, impl, work: Path) -> list[str]:
    out = work / f"{impl.name}-owner.fifo.log"
    tf = work / f"{impl.name}-owner.tf"
    tf.write_text("0\n")
    reader = FifoReader(out)
    try:
        r1 = la.start_daemon("r1", impl, owner_group_conf(out, tf))
        # a group of owners notifies no MASTER of its own (keepalived's vrrp_sync_set_group)
        _wait(out, 'INSTANCE "VI_2" MASTER', 1, r1)
        tf.write_text("5\n")
        _wait(out, 'INSTANCE "VI_2" FAULT', 1, r1)
        r1.signal(signal.SIGTERM)
        assert r1.wait(15) == 0, r1.output()[-3000:]
        _wait(out, 'INSTANCE "VI_2" STOP', 1, r1)
        return lines(out)
    finally:
        reader.close()


def test_track_group_static_address_interface_like_keepalived(lab, implementation, keepalived_impl, tmp_path):
    py = implementation("keepalived-py", features=("vrrp",))
    ka = run_track_group(lab(ONE_ROUTER), keepalived_impl, tmp_path)
    ours = run_track_group(lab(ONE_ROUTER), py, tmp_path)
    print("keepalived:", ka)
    print("keepalived-py:", ours)
    assert 'INSTANCE "VI_1" FAULT 100' in ka
    assert ours == ka


def test_owner_sync_group_tracks_at_weight_0_like_keepalived(lab, implementation, keepalived_impl, tmp_path):
    py = implementation("keepalived-py", features=("vrrp",))
    ka = run_owner_group(lab(ONE_ROUTER), keepalived_impl, tmp_path)
    ours = run_owner_group(lab(ONE_ROUTER), py, tmp_path)
    print("keepalived:", ka)
    print("keepalived-py:", ours)
    assert any(x.startswith('INSTANCE "VI_1" FAULT') for x in ka), ka
    # the start too: the track file is read before the instances start, as keepalived does
    assert ours == ka
