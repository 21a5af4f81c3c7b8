"""The vrrp child's start notes: each instance's `vrf` line is named once, with why."""

from __future__ import annotations

from keepalived_py.config.loader import load_text
from keepalived_py.vrrpd.ignored import start_notes

CONF = """vrrp_instance {name} {{
  interface eth0
{vrf}  virtual_router_id {vrid}
  priority 100
  virtual_ipaddress {{
    192.0.2.{vrid}/32
  }}
}}
"""


def test_a_vrf_line_gets_one_note_naming_it_and_why():
    text = CONF.format(name="A", vrf="  vrf red\n", vrid=1) + CONF.format(name="B", vrf="", vrid=2)
    notes = start_notes(load_text(text).config)
    assert notes == ["(A) vrf red ignored: keepalived 2.2.7 uses vrf only for a unicast instance without "
                     "an interface, and rejects such an instance (Unknown interface!); enslave the "
                     "instance's interface to the VRF instead"]


def test_no_vrf_no_note():
    assert start_notes(load_text(CONF.format(name="A", vrf="", vrid=1)).config) == []
