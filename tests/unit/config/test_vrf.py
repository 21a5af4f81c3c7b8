"""`vrf` (vrrp_instance) read as keepalived 2.2.7 reads it: its handler runs in line order, so
an interface line before it makes it an error, one after it clears it when the instance is
completed. The expected lines are keepalived 2.2.7's own (`keepalived -t` in a netns with a
veth pair, 2026-12-02)."""

from __future__ import annotations

import pytest

from keepalived_py.config.diagnostics import Diagnostics
from keepalived_py.config.loader import load_text
from keepalived_py.config.validate import ValidationEnv
from keepalived_py.config.validate import vrrp as vrrp_validate

CONF = """vrrp_instance V {{
{first}
{second}
  virtual_router_id 5
  priority 100
  unicast_src_ip 192.0.2.1
  unicast_peer {{
    192.0.2.2
  }}
  virtual_ipaddress {{
    192.0.2.100/32
  }}
}}
"""


def messages(first: str, second: str) -> list[str]:
    result = load_text(CONF.format(first=first, second=second))
    diags = Diagnostics()
    # eth0 / eth1 are not on this host (no type to read); lo is on every Linux host, a loopback
    vrrp_validate.validate(result.config, ValidationEnv(diags, frozenset({"eth0", "eth1", "lo"})))
    return [str(d) for d in diags]


@pytest.mark.parametrize("first, second, expected", [
    # interface first: the vrf handler sees it
    ("  interface eth0", "  vrf eth1",
     ["(keepalived.conf: Line 3) (V) Cannot specify VRF interface and interface - ignoring"]),
    # vrf first: kept by its handler, cleared when the instance is completed (no line number)
    ("  vrf eth1", "  interface eth0", ["(V) vrf can only be specified without interface - clearing"]),
    ("  vrf lo", "  interface eth0",
     ["(keepalived.conf: Line 2) (V) cannot use a loopback interface (lo) for VRF - ignoring"]),
    ("  vrf nosuch", "  interface eth0",
     ["(keepalived.conf: Line 2) (V) WARNING - VRF interface nosuch doesn't exist",
      "Non-existent interface specified in configuration"]),
    # an interface keepalived ignored (loopback) does not count against a later vrf
    ("  interface lo", "  vrf nosuch",
     ["(keepalived.conf: Line 2) (V) cannot use a loopback interface (lo) for vrrp - ignoring",
      "(keepalived.conf: Line 3) (V) WARNING - VRF interface nosuch doesn't exist",
      "Non-existent interface specified in configuration"]),
])
def test_vrf_messages_are_keepalived_2_2_7s(first, second, expected):
    assert messages(first, second) == expected
