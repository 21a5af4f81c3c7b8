"""vrrp_instance: every keyword of keepalived 2.2.7, values, messages and keepalived's checks."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.loader import load_config, load_text
from keepalived_py.config.model.vrrp import VrrpInstance, round_advert_int
from keepalived_py.config.model.vrrp_types import (
    NotifyDeleted,
    TrackRef,
    UnicastPeer,
    UseIpvlan,
    UseVmac,
)
from keepalived_py.config.schema import keyword_specs, newer_keywords
from keepalived_py.config.validate import ValidationEnv
from keepalived_py.config.validate import vrrp as vrrp_validate
from keepalived_py.config.values import GarpExtraIf, NotifyScript
from keepalived_py.config.writer import write_config
from tests.unit.config.helpers import bare, parse_only

ROOT = Path(__file__).resolve().parents[3]
PARITY = ROOT / "conformance" / "configs" / "vrrp"
SAMPLES = Path("/usr/share/doc/keepalived/samples")

#: the install_keyword() calls of keepalived 2.2.7's vrrp_instance block (vrrp_parser.c)
KEEPALIVED_VRRP_INSTANCE_KEYWORDS = ["use_vmac", "use_vmac_addr", "vmac_xmit_base", "use_ipvlan", "unicast_peer", "unicast_fault_no_peer", "check_unicast_src", "old_unicast_checksum", "native_ipv6", "state", "interface", "vrf", "dont_track_primary", "track_interface", "track_script", "track_file", "track_process", "track_bfd", "mcast_src_ip", "unicast_src_ip", "mcast_dst_ip", "track_src_ip", "virtual_router_id", "unicast_ttl", "version", "priority", "advert_int", "virtual_ipaddress", "virtual_ipaddress_excluded", "promote_secondaries", "linkbeat_use_polling", "virtual_routes", "virtual_rules", "accept", "no_accept", "skip_check_adv_addr", "strict_mode", "preempt", "nopreempt", "preempt_delay", "debug", "notify_backup", "notify_master", "notify_fault", "notify_stop", "notify_deleted", "notify", "notify_master_rx_lower_pri", "smtp_alert", "notify_priority_changes", "lvs_sync_daemon_interface", "garp_master_delay", "garp_master_refresh", "garp_master_repeat", "garp_master_refresh_repeat", "garp_lower_prio_delay", "garp_lower_prio_repeat", "down_timer_adverts", "garp_extra_if", "vmac_garp_intvl", "lower_prio_no_advert", "higher_prio_send_advert", "kernel_rx_buf_size", "authentication"]

MIN = """vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
{body}
    virtual_ipaddress {{
        192.0.2.1/24
    }}
}}
"""


def _parse(text: str):
    return parse_only(text, with_info=True)


def inst(body: str = "") -> tuple[VrrpInstance, list]:
    config, diags = _parse(MIN.format(body=body))
    return config.vrrp_instance[0], diags


def problems(diags, code=None):
    return [d for d in diags if d.code != ConfigErr.OK and (code is None or d.code == code)]


def validate_on(text: str, interfaces=frozenset({"eth0", "eth1"})):
    result = load_text(text)
    diags = Diagnostics()
    vrrp_validate.validate(result.config, ValidationEnv(diags, interfaces))
    return [str(d) for d in diags], diags


# --------------------------------------------------------------------------- keyword table
def test_every_keepalived_keyword_is_declared():
    table = VrrpInstance.__kw_table__
    missing = [k for k in KEEPALIVED_VRRP_INSTANCE_KEYWORDS if k not in table]
    assert not missing
    assert len(KEEPALIVED_VRRP_INSTANCE_KEYWORDS) == 64


def test_no_keyword_beyond_keepalived():
    extra = set(VrrpInstance.__kw_table__) - set(KEEPALIVED_VRRP_INSTANCE_KEYWORDS) - newer_keywords(VrrpInstance)
    assert not extra


def test_defaults():
    vi, diags = inst()
    assert not problems(diags)
    assert vi.name == "VI_1"
    assert vi.state is None and vi.priority is None and vi.advert_int is None and vi.version is None
    assert vi.effective_state == "BACKUP" and vi.effective_priority == 100
    assert vi.preempt is True and vi.preempt_delay == 0.0 and vi.accept is None
    assert vi.garp_master_delay is None and vi.down_timer_adverts is None
    assert vi.track_script == () and vi.unicast_peer == ()
    assert vi.family == 4 and vi.effective_version() == 2 and vi.effective_version(3) == 3
    assert vi.effective_advert_int() == 1.0
    assert vi.effective_accept() is True and vi.effective_accept(global_strict=True) is False


V4 = ipaddress.ip_address


@pytest.mark.parametrize("line, field, value", [
    ("state MASTER", "state", "MASTER"),
    ("state BACKUP", "state", "BACKUP"),
    ("interface eth3", "interface", "eth3"),
    ("vrf red", "vrf", "red"),
    ("use_vmac", "use_vmac", UseVmac()),
    ("use_vmac vrrp.51", "use_vmac", UseVmac("vrrp.51")),
    ("use_vmac vrrp.51 02:00:00:AA:bb:01", "use_vmac", UseVmac("vrrp.51", "02:00:00:aa:bb:01")),
    ("use_vmac 02:00:00:aa:bb", "use_vmac", UseVmac(None, "02:00:00:aa:bb")),
    ("use_vmac_addr", "use_vmac_addr", True),
    ("vmac_xmit_base", "vmac_xmit_base", True),
    ("use_ipvlan ipvl0 192.0.2.9/24 private", "use_ipvlan",
     UseIpvlan("ipvl0", ipaddress.ip_interface("192.0.2.9/24"), "private")),
    ("native_ipv6", "native_ipv6", True),
    ("dont_track_primary", "dont_track_primary", True),
    ("mcast_src_ip 192.0.2.5", "mcast_src_ip", V4("192.0.2.5")),
    ("unicast_src_ip 192.0.2.6", "unicast_src_ip", V4("192.0.2.6")),
    ("unicast_src_ip 192.0.2.6/24", "unicast_src_ip", V4("192.0.2.6")),  # inet_stosockaddr drops the mask
    ("mcast_src_ip 2001:db8::6/64", "mcast_src_ip", ipaddress.ip_address("2001:db8::6")),
    ("mcast_dst_ip 224.0.0.19", "mcast_dst_ip", V4("224.0.0.19")),
    ("track_src_ip", "track_src_ip", True),
    ("unicast_fault_no_peer", "unicast_fault_no_peer", True),
    ("check_unicast_src", "check_unicast_src", True),
    ("unicast_ttl 0", "unicast_ttl", 0),
    ("old_unicast_checksum", "old_unicast_checksum", "config"),
    ("old_unicast_checksum never", "old_unicast_checksum", "never"),
    ("virtual_router_id 255", "virtual_router_id", 255),
    ("priority 255", "priority", 255),
    ("priority 1", "priority", 1),
    ("advert_int 0.25", "advert_int", 0.25),
    ("advert_int 3", "advert_int", 3.0),
    ("version 3", "version", 3),
    ("promote_secondaries", "promote_secondaries", True),
    ("accept", "accept", True),
    ("no_accept", "accept", False),
    ("skip_check_adv_addr", "skip_check_adv_addr", True),
    ("skip_check_adv_addr off", "skip_check_adv_addr", True),  # keepalived sets it for any <BOOL>
    ("strict_mode", "strict_mode", True),
    ("strict_mode no", "strict_mode", False),
    ("nopreempt", "preempt", False),
    ("preempt", "preempt", True),
    ("preempt_delay 2.5", "preempt_delay", 2.5),
    ("debug 4", "debug", 4),
    ("notify_master /bin/m.sh", "notify_master", NotifyScript("/bin/m.sh")),
    ('notify_backup "/bin/b.sh arg" nobody', "notify_backup", NotifyScript("/bin/b.sh arg", "nobody")),
    ("notify_fault /bin/f.sh root wheel", "notify_fault", NotifyScript("/bin/f.sh", "root", "wheel")),
    ("notify_stop /bin/s.sh", "notify_stop", NotifyScript("/bin/s.sh")),
    ("notify_deleted", "notify_deleted", NotifyDeleted()),
    ("notify_deleted /bin/d.sh", "notify_deleted", NotifyDeleted(NotifyScript("/bin/d.sh"))),
    ("notify /bin/n.sh", "notify", NotifyScript("/bin/n.sh")),
    ("notify_master_rx_lower_pri /bin/l.sh", "notify_master_rx_lower_pri", NotifyScript("/bin/l.sh")),
    ("smtp_alert", "smtp_alert", True),
    ("smtp_alert false", "smtp_alert", False),
    ("notify_priority_changes on", "notify_priority_changes", True),
    ("garp_master_delay 10", "garp_master_delay", 10),
    ("garp_master_repeat 3", "garp_master_repeat", 3),
    ("garp_master_refresh 60", "garp_master_refresh", 60),
    ("garp_master_refresh_repeat 2", "garp_master_refresh_repeat", 2),
    ("garp_lower_prio_delay 7", "garp_lower_prio_delay", 7),
    ("garp_lower_prio_repeat 0", "garp_lower_prio_repeat", 0),
    ("down_timer_adverts 100", "down_timer_adverts", 100),
    ("garp_extra_if 30", "garp_extra_if", GarpExtraIf(30)),
    ("garp_extra_if all 0", "garp_extra_if", GarpExtraIf(0, True)),
    ("lower_prio_no_advert", "lower_prio_no_advert", True),
    ("higher_prio_send_advert false", "higher_prio_send_advert", False),
    ("kernel_rx_buf_size 262144", "kernel_rx_buf_size", 262144),
])
def test_keyword_values(line, field, value):
    vi, diags = inst("    " + line)
    assert not problems(diags), [str(d) for d in diags]
    assert getattr(vi, field) == value


def test_deprecated_but_accepted_keywords():
    vi, diags = inst("    linkbeat_use_polling\n    lvs_sync_daemon_interface eth1\n    vmac_garp_intvl 5")
    assert vi.linkbeat_use_polling is True
    assert vi.lvs_sync_daemon_interface == "eth1"
    assert vi.garp_extra_if == GarpExtraIf(5)
    codes = sorted(d.code for d in problems(diags))
    assert codes == [ConfigErr.GENERAL_ERROR, ConfigErr.GENERAL_ERROR, ConfigErr.DEPRECATED]


def test_block_entries():
    body = """    track_interface {
        eth1
        eth2 weight -10 reverse
    }
    track_script {
        chk weight 254
        chk2 weight 5 noreverse
    }
    track_file {
        tf
    }
    track_process {
        tp weight 3 reverse
    }
    track_bfd {
        b1 weight -253
    }
    unicast_peer {
        192.0.2.2
        192.0.2.3 min_ttl 250 max_ttl 255
    }
    authentication {
        auth_type PASS
        auth_pass 123456789
    }
    virtual_ipaddress_excluded {
        2001:db8::1/64
    }
    virtual_routes {
        192.0.2.0/24 via 192.0.2.254 dev eth0
    }
    virtual_rules {
        from 192.0.2.0/24 table 10 preference 100
    }"""
    vi, diags = inst(body)
    assert vi.track_interface == (TrackRef("eth1"), TrackRef("eth2", -10, True))
    # +/-254 becomes +/-253 with keepalived's message
    assert vi.track_script == (TrackRef("chk", 253), TrackRef("chk2", 5, False))
    assert vi.track_file == (TrackRef("tf"),)
    assert vi.track_process == (TrackRef("tp", 3, True),)
    assert vi.track_bfd == (TrackRef("b1", -253),)
    assert vi.unicast_peer == (UnicastPeer(V4("192.0.2.2")), UnicastPeer(V4("192.0.2.3"), 250, 255))
    assert vi.unicast_peer[1].ttl_range == (250, 255) and vi.unicast_peer[0].ttl_range == (0, 255)
    assert vi.authentication.auth_type == "PASS" and vi.authentication.auth_pass == "12345678"
    assert len(vi.virtual_ipaddress_excluded) == 1 and len(vi.virtual_routes) == 1 and len(vi.virtual_rules) == 1
    texts = [bare(d.message, "VI_1") for d in problems(diags)]
    assert texts == ["weight for chk cannot be +/-254. Setting to +/-253", "Truncating auth_pass to 8 characters"]
    assert vi.unicast and vi.unicast_configured and vi.family == 4


def test_track_entry_positions_are_their_lines():
    vi, _ = inst("    track_script {\n        a\n        b\n    }")
    assert [r.pos.line for r in vi.track_script] == [5, 6]


@pytest.mark.parametrize("line, field, expected, messages", [
    ("priority 256", "priority", 100,
     ["number '256' outside range [1, 255]", "Priority not valid! must be between 1 & 255. Using default 100"]),
    ("priority 0", "priority", 100, None),
    ("virtual_router_id 0", "virtual_router_id", 51,
     ["number '0' outside range [1, 255]", "VRID '0' not valid - must be between 1 & 255"]),
    ("virtual_router_id x", "virtual_router_id", 51, ["invalid number 'x'", "VRID 'x' not valid - must be between 1 & 255"]),
    ("advert_int 0", "advert_int", None, None),
    ("advert_int 256", "advert_int", None,
     ["number '256' outside range [0.010000, 255.000000]", "Advert interval (256) not valid! Must be > 0 - ignoring"]),
    ("version 4", "version", None, ["number '4' outside range [2, 3]", "Version must be either 2 or 3"]),
    ("state STANDBY", "state", "BACKUP", ["unknown state 'STANDBY', defaulting to BACKUP"]),
    ("state master", "state", "BACKUP", None),
    ("garp_master_repeat 0", "garp_master_repeat", 1, ["garp_master_repeat must be greater than 0, setting to 1"]),
    ("garp_master_refresh -1", "garp_master_refresh", 0, None),
    ("down_timer_adverts 0", "down_timer_adverts", None, None),
    ("preempt_delay 1001", "preempt_delay", 0.0, None),
    ("debug 5", "debug", 0, None),
    ("unicast_ttl 256", "unicast_ttl", None, None),
    ("mcast_dst_ip 192.0.2.1", "mcast_dst_ip", None, ["mcast_dst_ip 192.0.2.1 not multicast. Skipping..."]),
    ("mcast_dst_ip ff05::12", "mcast_dst_ip", None, ["mcast_dst_ip ff05::12 not link-local multicast. Skipping..."]),
    ("mcast_src_ip 192.0.2", "mcast_src_ip", None, None),
    ("mcast_src_ip fe80::1%eth0", "mcast_src_ip", None, None),
    ("mcast_src_ip 192.0.2.012", "mcast_src_ip", None, None),
    ("smtp_alert maybe", "smtp_alert", None, ["Invalid vrrp_instance smtp_alert parameter maybe"]),
    ("strict_mode 2", "strict_mode", None, None),
    ("kernel_rx_buf_size 1 2", "kernel_rx_buf_size", None, ["invalid kernel_rx_buf_size specified"]),
    ("old_unicast_checksum always", "old_unicast_checksum", None, None),
    ("garp_extra_if all", "garp_extra_if", None, ["garp_extra_if specified without time - ignoring"]),
    ("use_vmac 01:00:5e:00:00:01", "use_vmac", UseVmac(), None),
    ("use_vmac 00:00:5e:00:01:07", "use_vmac", UseVmac(), None),
    ("use_vmac a/b", "use_vmac", UseVmac(), None),
    ("interface averyveryverylongname0", "interface", "eth0", None),
])
def test_bad_values(line, field, expected, messages):
    vi, diags = inst("    " + line)
    found = problems(diags)
    assert found, f"no diagnostic for {line}"
    assert all(d.pos.line == 4 for d in found)  # the keyword's own line
    assert getattr(vi, field) == expected
    if messages is not None:
        assert [bare(d.message, "VI_1") for d in found] == messages


def test_invalid_number_code_then_handler_error():
    _, diags = inst("    priority 300")
    assert [d.code for d in problems(diags)] == [ConfigErr.INVALID_NUMBER, ConfigErr.GENERAL_ERROR]


def test_unknown_keyword_has_hint_and_line():
    _, diags = inst("    prority 120")
    (d,) = problems(diags)
    assert d.code == ConfigErr.UNKNOWN_KEYWORD and d.pos.line == 4 and d.hint == "did you mean 'priority'?"


def test_repeats_keepalived_takes_once_and_blocks_it_merges():
    body = ("    notify_backup /bin/a\n    notify_backup /bin/b\n    use_ipvlan x1\n    use_ipvlan x2\n"
            "    authentication {\n        auth_type PASS\n    }\n    authentication {\n        auth_pass pw\n    }")
    vi, diags = inst(body)
    assert vi.notify_backup == NotifyScript("/bin/a") and vi.use_ipvlan == UseIpvlan("x1")
    assert (vi.authentication.auth_type, vi.authentication.auth_pass) == ("PASS", "pw")
    assert [bare(d.message, "VI_1") for d in problems(diags)] == [
        "notify_backup script already specified - ignoring /bin/b", "use_ipvlan already specified"]


def test_missing_names():
    texts, diags = validate_on("vrrp_instance {\n interface eth0\n}\nvrrp_sync_group {\n group {\n  A\n }\n}\n",
                               interfaces=None)
    assert texts == ["(keepalived.conf: Line 1) vrrp_instance must have a name",
                     "(keepalived.conf: Line 4) vrrp_sync_group must have a name - skipping"]
    assert load_text("vrrp_instance {\n interface eth0\n}\n").exit_status == 5  # not keepalived's exit 2


def test_vrrp_version_alias_is_not_a_keepalived_keyword():
    _, diags = inst("    vrrp_version 3")
    assert [d.code for d in problems(diags)] == [ConfigErr.UNKNOWN_KEYWORD]


def test_track_entry_errors():
    body = """    track_script {
        a foo
        b weight
        c weight 300
        d weight 5 sideways
    }
    track_file {
        f weight 1 sideways
    }"""
    vi, diags = inst(body)
    # a and b are dropped, c keeps the script's weight, d keeps weight 5; f is dropped
    assert [r.name for r in vi.track_script] == ["c", "d"]
    assert vi.track_script[0].weight is None and vi.track_script[1] == TrackRef("d", 5)
    assert vi.track_file == ()
    msgs = [bare(d.message, "VI_1") for d in problems(diags)]
    assert "unknown track script option foo - ignoring" in msgs
    assert "weight without value specified for track script b - ignoring" in msgs
    assert "unknown track file f weight option sideways - ignoring" in msgs


# --------------------------------------------------------------------------- derived values
@pytest.mark.parametrize("value, version, expected, has_message", [
    (1.0, 2, 1.0, False),
    (0.5, 2, 1.0, True),
    (1.4, 2, 1.0, True),
    (2.5, 2, 3.0, True),
    (255, 2, 255.0, False),
    (0.25, 3, 0.25, False),
    (0.255, 3, 0.26, True),
    (0.001, 3, 0.01, True),
    (40.95, 3, 40.95, False),
    (41, 3, 40.95, True),
    (None, 3, 1.0, False),
])
def test_round_advert_int(value, version, expected, has_message):
    result, message = round_advert_int(value, version)
    assert result == pytest.approx(expected)
    assert (message is not None) == has_message


def test_family_and_version():
    vi, _ = inst("    virtual_ipaddress {\n        2001:db8::1/64\n    }".replace("2001", "fe80", 1))
    assert vi.family == 6  # the first VIP (the body's, before MIN's own block) decides
    text = "vrrp_instance V6 {\n interface eth0\n virtual_router_id 2\n version 2\n" \
           " virtual_ipaddress {\n  fe80::1/64\n }\n}\n"
    v6 = load_text(text).config.vrrp_instance[0]
    # keepalived keeps 'version 2' read before the IPv6 VIPs, unless strict (vrrp.c)
    assert v6.family == 6 and v6.effective_version() == 2 and v6.effective_version(global_strict=True) == 3
    assert v6.effective_advert_int() == 1.0
    plain = load_text(text.replace(" version 2\n", "")).config.vrrp_instance[0]
    assert plain.effective_version() == 3 and plain.effective_version(2) == 3
    native = load_text(text.replace(" version 2\n", " native_ipv6\n version 2\n")).config.vrrp_instance[0]
    assert native.effective_version() == 3


def test_effective_values_follow_vrrp_complete_instance():
    vi, _ = inst("    state MASTER\n    priority 200\n    nopreempt\n    preempt_delay 3")
    assert vi.effective_preempt() and vi.effective_preempt_delay() == 0.0
    vi, _ = inst("    nopreempt\n    preempt_delay 3")
    assert not vi.effective_preempt() and vi.effective_preempt_delay() == 0.0
    vi, _ = inst("    preempt_delay 3\n    down_timer_adverts 5\n    garp_lower_prio_repeat 2\n"
                 "    lower_prio_no_advert off\n    higher_prio_send_advert\n    accept\n    unicast_ttl 7")
    assert vi.effective_preempt_delay() == 3.0 and vi.effective_preempt_delay(global_strict=True) == 0.0
    assert vi.effective_down_timer_adverts() == 5 and vi.effective_down_timer_adverts(global_strict=True) == 3
    assert vi.effective_garp_lower_prio_repeat() == 2 and vi.effective_garp_lower_prio_repeat(global_strict=True) == 0
    assert vi.effective_lower_prio_no_advert() is False and vi.effective_lower_prio_no_advert(True, True) is True
    assert vi.effective_higher_prio_send_advert() is True
    assert vi.effective_higher_prio_send_advert(global_strict=True) is False
    assert vi.effective_accept() is True and vi.effective_accept(global_strict=True) is False
    assert vi.effective_accept(global_strict=True, global_version=3) is True
    assert vi.effective_unicast_ttl() == 255  # no peers: keepalived resets unicast_ttl
    plain, _ = inst("")
    assert plain.effective_garp_lower_prio_repeat() == 5 and plain.effective_garp_lower_prio_repeat(1) == 1
    assert plain.effective_garp_lower_prio_delay() == 5.0 and plain.effective_garp_lower_prio_delay(2) == 2.0
    assert plain.effective_smtp_alert() is False and plain.effective_smtp_alert(None, True) is True
    assert plain.effective_smtp_alert(False, True) is False


def test_priority_from_state():
    vi, _ = inst("    state MASTER")
    assert vi.effective_priority == 255 and vi.address_owner and vi.effective_accept(True)
    vi, _ = inst("    priority 255")
    assert vi.effective_state == "MASTER"


# --------------------------------------------------------------------------- validation
def test_interface_checks_and_bad_if():
    texts, diags = validate_on("vrrp_instance VI_2 {\n interface eth9\n virtual_router_id 2\n"
                               " track_interface {\n  eth8\n }\n virtual_ipaddress {\n  192.0.2.1/24 dev eth7\n }\n}\n")
    assert re.sub(r"Line [12]\)", "Line N)", texts[0]) == \
        "(keepalived.conf: Line N) WARNING - interface eth9 for vrrp_instance VI_2 doesn't exist"
    assert texts[1:] == [
        "(keepalived.conf: Line 5) (VI_2) tracked interface eth8 doesn't exist",
        "(keepalived.conf: Line 8) WARNING - interface eth7 for ip address 192.0.2.1/24 doesn't exist",
        "Non-existent interface specified in configuration",
    ]
    assert diags.items[-1].code == ConfigErr.BAD_IF
    assert diags.exit_status == 5  # the GENERAL_ERRORs outrank BAD_IF, as in keepalived


def test_interface_checks_off_without_host():
    result = load_text("vrrp_instance VI_2 {\n interface eth9\n virtual_router_id 2\n"
                       " virtual_ipaddress {\n  192.0.2.1/24\n }\n}\n")
    assert result.exit_status == 0


def test_missing_vrid_stops_checks():
    texts, _ = validate_on("vrrp_instance A {\n interface eth0\n}\nvrrp_instance B {\n interface eth0\n}\n")
    assert texts == ["(A) the virtual router id must be set"]


def test_unknown_interface_when_none():
    texts, _ = validate_on("vrrp_instance A {\n virtual_router_id 1\n unicast_src_ip 192.0.2.1\n"
                           " unicast_peer {\n  192.0.2.2\n }\n virtual_ipaddress {\n  192.0.2.9\n }\n}\n")
    assert texts == ["(A) Unknown interface!"]


def test_track_script_order_and_names():
    text = """vrrp_script early {
    script /bin/true
}
vrrp_instance VI_0 {
    interface eth0
    virtual_router_id 2
    track_script {
        early
        check_VI_0
        late
        early
    }
    virtual_ipaddress {
        192.0.2.1/24
    }
}
vrrp_script late {
    script /bin/true
}
"""
    texts, _ = validate_on(text, interfaces=None)
    assert "(keepalived.conf: Line 9) (VI_0) track script check_VI_0 not found, ignoring..." in texts
    assert "(keepalived.conf: Line 10) (VI_0) track script late not found, ignoring..." in texts
    assert "(keepalived.conf: Line 11) (VI_0) duplicate track_script early - ignoring" in texts


def test_vrrp_script_without_script_is_removed():
    text = "vrrp_script s {\n interval 2\n}\n" + MIN.format(body="    track_script {\n        s\n    }")
    texts, _ = validate_on(text, interfaces=None)
    assert texts[0] == "(keepalived.conf: Line 3) No script set for vrrp_script s - removing"
    assert "(keepalived.conf: Line 8) (VI_1) track script s not found, ignoring..." in texts


def test_address_family_consistency():
    texts, _ = validate_on(MIN.format(body="""    mcast_src_ip 192.0.2.9
    unicast_peer {
        2001:db8::2
    }
    virtual_ipaddress {
        2001:db8::1/64
    }"""), interfaces=None)
    assert texts[:2] == [
        "(keepalived.conf: Line 6) Configuration error: VRRP instance[VI_1] and unicast peer address[2001:db8::2] "
        "MUST be of the same family !!! Skipping...",
        "(keepalived.conf: Line 9) (VI_1): address family must match VRRP instance [2001:db8::1/64] - ignoring"]


def test_duplicate_vrid():
    text = MIN.format(body="") + MIN.format(body="").replace("VI_1", "VI_2").replace("192.0.2.1/", "192.0.2.2/")
    texts, _ = validate_on(text, interfaces=None)
    assert texts == ["VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0"]
    # a different multicast group or address family is no conflict
    other = MIN.format(body="    mcast_dst_ip 224.0.0.20").replace("VI_1", "VI_2")
    assert validate_on(MIN.format(body="") + other, interfaces=None)[0] == []


def test_duplicate_instance_name():
    texts, _ = validate_on(MIN.format(body="") + MIN.format(body=""), interfaces=None)
    assert texts[0] == "(keepalived.conf: Line 9) vrrp instance VI_1 already defined"


def test_ah_with_master():
    body = "    state MASTER\n    priority 150\n    authentication {\n        auth_type AH\n        auth_pass x\n    }"
    texts, _ = validate_on(MIN.format(body=body), interfaces=None)
    assert texts == ["(VI_1) Initial state master is incompatible with AH authentication - clearing"]


@pytest.mark.parametrize("body, message", [
    ("    version 3\n    authentication {\n        auth_type PASS\n        auth_pass x\n    }",
     "(VI_1) VRRP version 3 does not support authentication. Ignoring."),
    ("    authentication {\n        auth_type PASS\n    }",
     "(VI_1) Authentication specified but no password given. Ignoring"),
    ("    strict_mode\n    state MASTER\n    priority 100", "(VI_1) State MASTER must match being address owner"),
    ("    priority 255\n    nopreempt", "(VI_1) nopreempt is incompatible with priority 255. resetting nopreempt"),
    ("    nopreempt\n    preempt_delay 3", "(VI_1) preempt_delay is incompatible with nopreempt mode - resetting"),
    ("    strict_mode\n    down_timer_adverts 5",
     "(VI_1) down_timer_adverts is incompatible with strict mode - resetting"),
    ("    strict_mode\n    accept", "(VI_1) warning - accept mode for VRRP version 2 does not comply with RFC3768 - "
                                    "resetting"),
    ("    vmac_xmit_base", "(VI_1) vmac_xmit_base is only valid with a vmac"),
    ("    unicast_src_ip 192.0.2.3", "(VI_1) A unicast keyword has been specified without any unicast peers. "
                                     "Defaulting to multicast. This usage is deprecated - please update your "
                                     "configuration."),
    ("    advert_int 1.5", "(VI_1) VRRPv2 advertisement interval 1.500000s must be an integer. rounding"),
    ("    unicast_ttl 5", "(VI_1): Cannot use unicast_ttl without unicast peers - resetting"),
    ("    track_interface {\n        eth0\n    }", "(VI_1) Ignoring track_interface eth0 since own interface"),
])
def test_complete_instance_messages(body, message):
    texts, _ = validate_on(MIN.format(body=body), interfaces=None)
    assert any(t.endswith(message) for t in texts), texts


def test_strict_global_and_no_vip():
    text = "vrrp_instance A {\n interface eth0\n virtual_router_id 3\n}\n"
    texts, diags = validate_on(text, interfaces=None)
    assert texts == ["(A) No VIP specified; at least one is sensible"] * 2
    assert [d.code for d in diags] == [ConfigErr.GENERAL_ERROR, ConfigErr.WARNING]
    texts, _ = validate_on(text.replace(" virtual_router_id 3", " virtual_router_id 3\n strict_mode"),
                           interfaces=None)
    assert texts == ["(A) No VIP specified; at least one is required"]


def test_too_many_vips_for_a_packet():
    vips = "\n".join(f"        10.0.{i // 250}.{i % 250 + 1}" for i in range(400))
    texts, _ = validate_on(MIN.format(body="").replace("        192.0.2.1/24", vips), interfaces=None)
    assert texts == ["(VI_1) Number of VIPs (400) exceeds maximum/space available in packet (max 255 addresses) - "
                     "excess moved to eVIPs"]


# --------------------------------------------------------------------------- samples, round trip, parity
def sample_paths() -> list[Path]:
    return sorted(SAMPLES.glob("keepalived.conf.*")) if SAMPLES.is_dir() else []


@pytest.mark.parametrize("path", sample_paths(), ids=lambda p: p.name)
def test_samples_have_no_unknown_vrrp_keywords(path):
    result = load_config(str(path), check_interfaces=False)
    unknown = [d for d in result.diagnostics if d.code == ConfigErr.UNKNOWN_KEYWORD]
    if path.name == "keepalived.conf.vrrp.lvs_syncd":
        # the sample lists VI_2 and VI_3 without a 'group' block: keepalived 2.2.7 says the same
        assert [d.message for d in unknown] == ["Unknown keyword 'VI_2'", "Unknown keyword 'VI_3'"]
    else:
        assert not unknown


VRRP_FIELDS = ("vrrp_instance", "vrrp_sync_group", "garp_group", "vrrp_script", "vrrp_track_file",
               "vrrp_track_process")


def round_trip_paths() -> list[Path]:
    return sample_paths() + sorted(PARITY.glob("*.conf"))


@pytest.mark.parametrize("path", round_trip_paths(), ids=lambda p: p.name)
def test_round_trip(path):
    first = load_config(str(path), check_interfaces=False).config
    second = load_text(write_config(first)).config
    for name in VRRP_FIELDS:
        assert getattr(first, name) == getattr(second, name), name


def test_round_trip_every_field_set():
    body = "\n".join("    " + line for line in (
        "state MASTER", "use_vmac v51 02:00:00:00:00:05", "use_vmac_addr", "vmac_xmit_base",
        "use_ipvlan ip0 192.0.2.8/24 vepa", "dont_track_primary", "mcast_src_ip 192.0.2.4",
        "unicast_src_ip 192.0.2.5", "mcast_dst_ip 224.0.0.30", "track_src_ip", "unicast_fault_no_peer",
        "check_unicast_src", "unicast_ttl 9", "old_unicast_checksum never", "priority 200", "advert_int 0.75",
        "version 3", "promote_secondaries", "no_accept", "skip_check_adv_addr", "strict_mode off", "nopreempt",
        "preempt_delay 1.25", "debug 1", 'notify_master "/bin/x a" u g', "notify_deleted", "smtp_alert off",
        "notify_priority_changes", "garp_master_delay 1", "garp_master_repeat 2", "garp_master_refresh 3",
        "garp_master_refresh_repeat 4", "garp_lower_prio_delay 5", "garp_lower_prio_repeat 6",
        "down_timer_adverts 7", "garp_extra_if all 8", "lower_prio_no_advert off", "higher_prio_send_advert",
        "kernel_rx_buf_size 9", "track_script {", "    s weight 0 noreverse", "}", "unicast_peer {",
        "    192.0.2.7 max_ttl 200", "}", "authentication {", "    auth_type AH", "    auth_pass p", "}"))
    first, diags = _parse(MIN.format(body=body))
    assert not problems(diags), [str(d) for d in diags]
    text = write_config(first)
    assert load_text(text).config.vrrp_instance == first.vrrp_instance
    fields = {name for name, _ in keyword_specs(VrrpInstance)}
    assert "use_ipvlan" in fields


def parity_cases() -> list[Path]:
    return sorted(PARITY.glob("*.conf"))


#: cases where keepalived-py's -t exit status still differs, and why
KNOWN_DIFFERENCES: dict[str, str] = {}


@pytest.mark.parametrize("path", parity_cases(), ids=lambda p: p.name)
def test_parity_exit_status(path):
    if path.name in KNOWN_DIFFERENCES:
        pytest.xfail(KNOWN_DIFFERENCES[path.name])
    if not Path("/sys/class/net/eth0").exists():
        pytest.skip("the parity configurations use eth0")
    expected = re.search(r"#\s*expect:\s*keepalived exit (\d+)", path.read_text().splitlines()[0])
    assert expected, "first line must record keepalived's exit status"
    assert load_config(str(path)).exit_status == int(expected.group(1))


def test_at_least_fifteen_parity_cases():
    assert len(parity_cases()) >= 15
