"""A sync group with an address owner member: its tracked objects lose their weights, with
keepalived 2.2.7's lines (vrrp.c sync_group_tracking_init; the expected lines are what
keepalived 2.2.7 -t printed for the same configs in a netns)."""

from __future__ import annotations

from keepalived_py.config.diagnostics import Diagnostics
from keepalived_py.config.validate import ValidationEnv
from keepalived_py.config.validate import vrrp as vrrp_validate
from tests.unit.config.helpers import parse_only

OBJECTS = """vrrp_script chk {
 script /bin/true
 weight 10
}
vrrp_script chk0 {
 script /bin/true
}
track_file tf {
 file /tmp/tf
}
vrrp_track_process tp {
 process sshd
 weight 4
}
bfd_instance b1 {
 neighbor_ip 192.0.2.99
 weight 6
}
"""
GROUP = """vrrp_sync_group G {
 group {
  A
  B
 }
 track_bfd {
  b1
 }
 track_process {
  tp
 }
 track_script {
  chk0
  chk weight 3
 }
 track_file {
  tf
 }
 track_interface {
  eth1
  eth2 weight -4
 }
}
"""


def instance(name: str, vrid: int, priority: int) -> str:
    state = "MASTER" if priority == 255 else "BACKUP"
    return (f"vrrp_instance {name} {{\n interface eth0\n virtual_router_id {vrid}\n priority {priority}\n"
            f" state {state}\n virtual_ipaddress {{\n  192.0.2.{vrid}/32\n }}\n}}\n")


def check(text: str) -> list[str]:
    config, _ = parse_only(text)
    diags = Diagnostics()
    vrrp_validate.validate(config, ValidationEnv(diags, frozenset({"eth0", "eth1", "eth2"})))
    return [str(d) for d in diags]


def test_owner_members_clear_the_groups_weights_in_keepalived_order():
    text = OBJECTS + instance("A", 1, 255) + instance("B", 2, 255) + GROUP
    assert check(text) == [
        "SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
        "(G) Cannot have weighted track script 'chk' with member having priority 255 - clearing weight",
        "(G) Cannot have weighted track file 'tf' with member having priority 255 - setting weight 0",
        "(G) Cannot have weighted track process 'tp' with member having priority 255 - setting weight 0",
        "(G) Cannot have weighted track bfd 'b1' with member having priority 255 - setting weight 0",
        "(G) Cannot have weighted track interface 'eth2' with member having priority 255 - clearing weight",
    ]


def test_no_owner_member_no_line():
    text = OBJECTS + instance("A", 1, 100) + instance("B", 2, 100) + GROUP
    assert not any("Cannot have weighted" in line for line in check(text))
