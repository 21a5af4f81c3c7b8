"""A sync group with an address owner member tracks its objects at weight 0, as keepalived
2.2.7's sync_group_tracking_init sets them: a failure then faults the group instead of
lowering an owner's priority (-t's lines: tests/unit/config/test_sync_group_owner.py)."""

from __future__ import annotations

from keepalived_py.config import load_text
from keepalived_py.vrrp.sync_group import owner_member_weights
from keepalived_py.vrrp.tracking import TrackedObject, Tracking
from keepalived_py.vrrpd.plan import sync_groups

OBJECTS = """vrrp_script chk {
    script /bin/true
    weight 10
}
track_file tf {
    file /tmp/tf
}
"""
GROUP = """vrrp_sync_group G {
    group {
        A
        B
    }
    track_script {
        chk
    }
    track_file {
        tf
    }
    track_interface {
        eth1 weight -4
        eth2
    }
}
"""


def _inst(name: str, vrid: int, head: str) -> str:
    return (f"vrrp_instance {name} {{\n    interface eth0\n    virtual_router_id {vrid}\n{head}"
            f"    virtual_ipaddress {{\n        192.0.2.{vrid}/32\n    }}\n}}\n")


def _weights(conf: str) -> dict[tuple[str, str], int]:
    ((_name, _members, tracked),) = sync_groups(load_text(conf).config)
    return {(o.kind, o.name): o.weight for o in tracked}


def test_an_owner_member_zeroes_the_groups_weights():
    conf = OBJECTS + _inst("A", 1, "    state MASTER\n") + _inst("B", 2, "    priority 255\n") + GROUP
    assert _weights(conf) == {("interface", "eth1"): 0, ("interface", "eth2"): 0,
                              ("script", "chk"): 0, ("file", "tf"): 0}


def test_without_an_owner_the_weights_stay():
    conf = OBJECTS + _inst("A", 1, "    priority 100\n") + _inst("B", 2, "    priority 100\n") + GROUP
    assert _weights(conf) == {("interface", "eth1"): -4, ("interface", "eth2"): 0,
                              ("script", "chk"): 10, ("file", "tf"): 1}


def test_a_zeroed_object_faults_instead_of_lowering_priority():
    (obj,) = owner_member_weights([TrackedObject("script", "chk", 10, False, True)], [255, 255])
    tr = Tracking([obj])
    tr.update("script", "chk", ok=False)
    assert tr.faults() == ["script chk"] and tr.total_weight() == 0
    (kept,) = owner_member_weights([TrackedObject("script", "chk", 10, False, True)], [100, 254])
    assert kept.weight == 10
