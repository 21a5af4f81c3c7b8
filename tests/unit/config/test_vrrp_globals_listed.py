"""VRRP-side global keywords the vrrp child acts on are not listed by -t as 'parsed, not
implemented' (issue 15: -t must list only what is really left out)."""

from __future__ import annotations

import pytest

from keepalived_py.config.loader import load_text

CONF = "global_defs {{\n {line}\n}}\n"


@pytest.mark.parametrize("line", [
    "vmac_addr_prefix va",  # vrrpd/plan.py names use_vmac_addr VMACs with it
    "disable_local_igmp",  # net/nft.py leaves IPv4 VMACs out of vmac_set with it
    "fifo_write_vrrp_states_on_reload",  # vrrpd/reload_fifo.py
    "default_interface eth2",  # vrrpd/plan.py static_addresses
    "vrrp_netlink_cmd_rcv_bufs 300000",  # vrrpd/daemon.py netlink_rcvbufs
    "vrrp_netlink_monitor_rcv_bufs_force",
])
def test_acted_on_vrrp_globals_are_not_listed(line):
    result = load_text(CONF.format(line=line))
    word = line.split()[0]
    assert f"global_defs.{word}" not in " ".join(result.not_implemented)


def test_a_global_still_left_out_is_listed():
    # the counterpart, so the test above can fail: enable_dbus is not acted on
    result = load_text(CONF.format(line="enable_dbus"))
    assert "global_defs.enable_dbus" in " ".join(result.not_implemented)


def test_interface_up_down_delays_is_not_listed():
    # vrrpd/link_delays.py debounces links with it
    result = load_text("interface_up_down_delays {\n eth0 2 1\n}\n")
    assert "interface_up_down_delays" not in " ".join(result.not_implemented)
