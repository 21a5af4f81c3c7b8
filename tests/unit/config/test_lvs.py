"""virtual_server_group / virtual_server / real_server: keywords, defaults, validation, keys, samples."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from keepalived_py.config import load_config, load_text
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.lvs import (
    Forwarding,
    RealServer,
    ServerAddress,
    VirtualServer,
    VsgFwmark,
    VsgRange,
    VsTarget,
)
from keepalived_py.config.schema import keyword_specs
from keepalived_py.config.values import NotifyScript
from keepalived_py.config.writer import write_config

IP = ipaddress.ip_address
ROOT = Path(__file__).resolve().parents[3]
PARITY = sorted((ROOT / "conformance" / "configs" / "lvs").glob("*.conf"))
SAMPLES = Path("/usr/share/doc/keepalived/samples")
LVS_SAMPLES = ["HTTP_GET.port", "SSL_GET", "SMTP_CHECK", "UDP_CHECK", "PING_CHECK", "misc_check", "misc_check_arg",
               "fwmark", "inhibit", "quorum", "sample", "status_code", "virtual_server_group", "virtualhost", "IPv6"]


def messages(result):
    """keepalived's messages, without the number reader's own line that precedes a keyword's message."""
    return [d.message for d in result.diagnostics if d.code not in (ConfigErr.OK, ConfigErr.INVALID_NUMBER)]


def number_messages(result):
    return [d.message for d in result.diagnostics if d.code == ConfigErr.INVALID_NUMBER]


def logged(result):
    return [d.message for d in result.diagnostics if d.code == ConfigErr.OK]


def vs_text(body: str, head: str = "192.0.2.1 80") -> str:
    return f"virtual_server {head} {{\n{body}\n}}\n"


GOOD = " lb_algo rr\n lb_kind NAT\n protocol TCP\n"
RS = " real_server 192.0.2.2 80 {\n }\n"


def one_vs(body: str, head: str = "192.0.2.1 80"):
    result = load_text(vs_text(body, head))
    return result, result.config.virtual_server[0]


def roundtrip(result):
    again = load_text(write_config(result.config))
    assert again.config == result.config, write_config(result.config)


# --------------------------------------------------------------------------- keyword inventory
VS_KEYWORDS = {
    "ip_family", "retry", "delay_before_retry", "warmup", "connect_timeout", "delay_loop", "inhibit_on_failure",
    "lb_algo", "lvs_sched", "hashed", "ops", "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port",
    "mh-fallback", "lb_kind", "lvs_method", "persistence_engine", "persistence_timeout", "persistence_granularity",
    "protocol", "ha_suspend", "smtp_alert", "virtualhost", "snmp_name", "alpha", "omega", "quorum_up",
    "quorum_down", "quorum", "hysteresis", "weight", "sorry_server", "sorry_server_inhibit",
    "sorry_server_lvs_method", "real_server",
}
RS_KEYWORDS = {
    "weight", "lvs_method", "uthreshold", "lthreshold", "inhibit_on_failure", "notify_up", "notify_down", "alpha",
    "retry", "delay_before_retry", "warmup", "connect_timeout", "delay_loop", "smtp_alert", "virtualhost",
    "snmp_name", "HTTP_GET", "SSL_GET", "TCP_CHECK", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK", "BFD_CHECK",
    "UDP_CHECK", "PING_CHECK", "FILE_CHECK",
}


def test_virtual_server_has_every_keepalived_keyword():
    assert set(VirtualServer.__kw_table__) == VS_KEYWORDS


def test_real_server_has_every_keepalived_keyword():
    assert set(RealServer.__kw_table__) == RS_KEYWORDS


# --------------------------------------------------------------------------- heads
@pytest.mark.parametrize("head,target", [
    ("192.0.2.1 80", VsTarget(address=IP("192.0.2.1"), port=80)),
    ("192.0.2.1", VsTarget(address=IP("192.0.2.1"))),
    ("192.0.2.1 0", VsTarget(address=IP("192.0.2.1"))),
    ("2001:db8::1 443", VsTarget(address=IP("2001:db8::1"), port=443)),
    ("fwmark 7", VsTarget(fwmark=7)),
    ("group G1", VsTarget(group="G1")),
])
def test_virtual_server_forms(head, target):
    result, vs = one_vs(GOOD + RS, head)
    assert vs.target == target
    assert (vs.address, vs.port, vs.fwmark, vs.group) == (target.address, target.port, target.fwmark, target.group)
    roundtrip(result)


@pytest.mark.parametrize("head,message", [
    ("192.0.2.300 80", "Invalid virtual server IP address/port 192.0.2.300/80 - skipping"),
    ("192.0.2.1 70000", "Invalid virtual server IP address/port 192.0.2.1/70000 - skipping"),
    ("fwmark x", "virtual server fwmark 'x' must be in [0, 4294967295] - ignoring"),
])
def test_bad_virtual_server_heads_skip_the_block(head, message):
    result, vs = one_vs(GOOD + RS, head)
    assert vs.target is None
    assert messages(result) == [message]
    assert result.diagnostics[0].pos.line == 1


def test_real_server_head_and_key():
    result, vs = one_vs(GOOD + " real_server 192.0.2.2 8080 {\n }\n real_server 2001:db8::2 {\n }\n", "fwmark 1")
    a, b = vs.real_server
    assert (a.address, a.port, a.key) == (IP("192.0.2.2"), 8080, (IP("192.0.2.2"), 8080))
    assert (b.address, b.port, b.key) == (IP("2001:db8::2"), None, (IP("2001:db8::2"), 0))


def test_bad_real_server_address():
    result, vs = one_vs(GOOD + " real_server 192.0.2.999 80 {\n }\n" + RS)
    assert "Invalid real server ip address/port 192.0.2.999 - skipping" in messages(result)
    assert vs.real_server[0].address is None


# --------------------------------------------------------------------------- keywords
def test_virtual_server_defaults():
    _result, vs = one_vs("")
    assert (vs.delay_loop, vs.connect_timeout, vs.quorum, vs.hysteresis, vs.weight) == (60.0, 5.0, 1, 0, 1)
    assert (vs.lb_algo, vs.lb_kind, vs.protocol, vs.persistence_timeout) == (None, None, None, None)
    assert (vs.scheduler, vs.forwarding, vs.service_protocol) == ("wlc", Forwarding("NAT"), "UDP")
    assert not (vs.alpha or vs.omega or vs.ha_suspend or vs.inhibit_on_failure or vs.ops)
    assert vs.retry is None and vs.smtp_alert is None and vs.sorry_server is None


VS_CASES = [
    ("ip_family inet6", "ip_family", "inet6"),
    ("retry 3", "retry", 3),
    ("delay_before_retry 2.5", "delay_before_retry", 2.5),
    ("warmup 0", "warmup", 0.0),
    ("connect_timeout 3", "connect_timeout", 3.0),
    ("delay_loop 6", "delay_loop", 6.0),
    ("inhibit_on_failure", "inhibit_on_failure", True),
    ("lb_algo sh", "lb_algo", "sh"),
    ("lvs_sched twos", "lb_algo", "twos"),
    ("ops", "ops", True),
    ("flag-1", "flag_1", True),
    ("flag-2", "flag_2", True),
    ("flag-3", "flag_3", True),
    ("lb_kind DR", "lb_kind", Forwarding("DR")),
    ("lvs_method TUN type gue port 6080 remcsum", "lb_kind", Forwarding("TUN", "gue", 6080, "remcsum")),
    ("lb_kind TUN type gre csum", "lb_kind", Forwarding("TUN", "gre", None, "csum")),
    ("persistence_engine sip", "persistence_engine", "sip"),
    ("persistence_timeout", "persistence_timeout", 360),
    ("persistence_timeout 900", "persistence_timeout", 900),
    ("persistence_granularity 255.255.255.0", "persistence_granularity", "255.255.255.0"),
    ("protocol udp", "protocol", "UDP"),
    ("protocol SCTP", "protocol", "SCTP"),
    ("ha_suspend", "ha_suspend", True),
    ("smtp_alert no", "smtp_alert", False),
    ("virtualhost www.example.com", "virtualhost", "www.example.com"),
    ("snmp_name web", "snmp_name", "web"),
    ("alpha", "alpha", True),
    ("omega", "omega", True),
    ("quorum_up /bin/quorum-up.sh nobody", "quorum_up", NotifyScript("/bin/quorum-up.sh", "nobody")),
    ('quorum_down "/bin/quorum-down.sh arg" nobody nogroup', "quorum_down",
     NotifyScript("/bin/quorum-down.sh arg", "nobody", "nogroup")),
    ("quorum 2", "quorum", 2),
    ("hysteresis 1", "hysteresis", 1),
    ("weight 5", "weight", 5),
    ("sorry_server 192.0.2.99 8080", "sorry_server", ServerAddress(IP("192.0.2.99"), 8080)),
    ("sorry_server 192.0.2.99", "sorry_server", ServerAddress(IP("192.0.2.99"))),
    ("sorry_server_lvs_method DR", "sorry_server_lvs_method", Forwarding("DR")),
]


@pytest.mark.parametrize("line,field,value", VS_CASES)
def test_virtual_server_keyword(line, field, value):
    extra = "sorry_server 192.0.2.99\n" if line.startswith("sorry_server_") else ""
    result, vs = one_vs(f"{extra}{line}\n lb_algo sh\n" if line.startswith(("sh-", "mh-")) else f"{extra}{line}")
    assert getattr(vs, field) == value
    assert not [d for d in result.diagnostics if d.code in (ConfigErr.UNKNOWN_KEYWORD, ConfigErr.INVALID_NUMBER)]
    roundtrip(result)


def test_sh_and_mh_flags():
    result, vs = one_vs(GOOD.replace("rr", "sh") + " sh-port\n sh-fallback\n" + RS)
    assert vs.sh_port and vs.sh_fallback and not messages(result)
    result, vs = one_vs(GOOD + " mh-port\n hashed\n" + RS)
    assert vs.mh_port
    assert messages(result) == ["mh-port only applies to sh scheduler - ignoring",
                                "hashed only applies to sh scheduler - ignoring"]


def test_flags_ignore_words_after_them():
    _result, vs = one_vs("ha_suspend off\n inhibit_on_failure no")
    assert vs.ha_suspend and vs.inhibit_on_failure


@pytest.mark.parametrize("line,message", [
    ("lb_algo rrr", "Invalid lvs_scheduler 'rrr' - ignoring"),
    ("lb_kind NATT", "PARSER : unknown [NATT] routing method for virtual server."),
    ("lb_kind TUN type ipip csum", "ipip tunnels do not support checksum option."),
    ("lb_kind TUN type gue", "gue tunnels require port, otherwise cannot have port."),
    ("lb_kind TUN port 80", "gue tunnels require port, otherwise cannot have port."),
    ("lb_kind TUN type gre remcsum", "gre tunnels do not support remote checksum option."),
    ("lb_kind TUN type vxlan", "Unknown tunnel type vxlan for virtual server."),
    ("lb_kind TUN type gue port 0", "Invalid gue tunnel port 0 for virtual server."),
    ("lb_kind TUN bogus", "Invalid tunnel option bogus for virtual server."),
    ("protocol ICMP", "Unknown protocol ICMP - ignoring"),
    ("delay_loop 0", "virtual server delay loop '0' invalid - ignoring"),
    ("connect_timeout 0", "virtual server connect_timeout 0 invalid - ignoring"),
    ("retry 0", "retry value invalid - 0"),
    ("persistence_timeout 9999999999", "persistence_timeout invalid"),
    ("persistence_granularity 255.255.255.256", "Invalid IPv4 persistence_granularity specified - 255.255.255.256"),
    ("weight 0", "Virtual server weight 0 is outside range 1-2147483647"),
    ("hysteresis -1", "Hysteresis -1 must be in [0, 4294967295] - ignoring"),
    ("ip_family inet4", "unknown address family inet4"),
])
def test_bad_virtual_server_values(line, message):
    result, _vs = one_vs(GOOD + f" {line}\n" + RS)
    assert messages(result) == [message]
    assert result.exit_status == 5


def test_persistence_granularity_follows_the_virtual_server_family():
    result, vs = one_vs(GOOD + " persistence_granularity 129\n" + RS)
    assert vs.persistence_granularity == "129" and not messages(result)  # an IPv4 number, as inet_aton reads it
    result, _vs = one_vs(GOOD + " persistence_granularity 129\n real_server 2001:db8::2 80 {\n }\n",
                         "2001:db8::1 80")
    assert messages(result) == ["Invalid IPv6 persistence_granularity specified - 129"]
    result, _vs = one_vs(GOOD + " persistence_granularity 255.255.0.0\n real_server 2001:db8::2 80 {\n }\n",
                         "2001:db8::1 80")
    assert messages(result) == ["Invalid IPv6 persistence_granularity specified - 255.255.0.0"]


@pytest.mark.parametrize("line,message", [
    ("weight 0", "number '0' outside range [1, 2147483647]"),
    ("weight -3", "negative number '-3'"),
    ("weight 1_000", "invalid number '1_000'"),
    ("quorum 99999999999", "number '99999999999' outside unsigned integer range"),
    ("delay_loop 0", "number '0' outside range [0.000001, 18446744073709.551614]"),
    ("connect_timeout 5000", "number '5000' outside range [0.000001, 4294.967295]"),
    ("warmup -1", "negative number '-1'"),
    ("delay_before_retry 1x", "invalid number '1x'"),
])
def test_number_readers_report_as_keepalived(line, message):
    result, _vs = one_vs(GOOD + f" {line}\n" + RS)
    assert number_messages(result) == [message]


def test_timer_with_too_many_decimals_is_rounded_and_reported():
    result, vs = one_vs(GOOD + " delay_loop 1.0000005\n" + RS)
    assert vs.delay_loop == 1.000001
    assert number_messages(result) == ["number '1.0000005' has too many decimal places"]


def test_bad_tunnel_option_keeps_the_method():
    _result, vs = one_vs(GOOD.replace("lb_kind NAT", "lb_kind TUN type ipip csum") + RS)
    assert vs.lb_kind == Forwarding("TUN")


def test_bad_quorum_sets_one():
    result, vs = one_vs(GOOD + " quorum 0\n" + RS)
    assert vs.quorum == 1
    assert messages(result) == ["Quorum 0 must be in [1, 4294967295]. Setting to 1."]


RS_CASES = [
    ("weight 7", "weight", 7),
    ("lvs_method TUN type gue port 6080", "lvs_method", Forwarding("TUN", "gue", 6080)),
    ("uthreshold 1000", "uthreshold", 1000),
    ("lthreshold 10", "lthreshold", 10),
    ("inhibit_on_failure off", "inhibit_on_failure", False),
    ('notify_up "/bin/up.sh a b"', "notify_up", NotifyScript("/bin/up.sh a b")),
    ("notify_down /bin/down.sh root", "notify_down", NotifyScript("/bin/down.sh", "root")),
    ("alpha", "alpha", True),
    ("retry 3", "retry", 3),
    ("delay_before_retry 1.5", "delay_before_retry", 1.5),
    ("warmup 2", "warmup", 2.0),
    ("connect_timeout 2", "connect_timeout", 2.0),
    ("delay_loop 3", "delay_loop", 3.0),
    ("smtp_alert false", "smtp_alert", False),
    ("virtualhost rs.example.com", "virtualhost", "rs.example.com"),
    ("snmp_name rs1", "snmp_name", "rs1"),
]


@pytest.mark.parametrize("line,field,value", RS_CASES)
def test_real_server_keyword(line, field, value):
    result, vs = one_vs(GOOD + f" real_server 192.0.2.2 80 {{\n {line}\n }}\n")
    assert getattr(vs.real_server[0], field) == value
    assert not messages(result)
    roundtrip(result)


def test_zero_weight_gives_keepalived_quorum_messages():
    result, vs = one_vs(GOOD + " real_server 192.0.2.2 80 {\n weight 0\n }\n")
    assert vs.real_server[0].weight == 0
    assert messages(result) == [
        "Warning - quorum 1 for [192.0.2.1]:tcp:80 exceeds total weight of real servers 0, reducing quorum to 0",
        "Virtual server [192.0.2.1]:tcp:80: hysteresis 0 >= quorum 0; setting hysteresis to 4294967295"]


@pytest.mark.parametrize("line,message", [
    ("weight -1", "Real server weight -1 is outside range 0-2147483647"),
    ("uthreshold x", "Invalid real_server uthreshold 'x' - ignoring"),
    ("lthreshold -2", "Invalid real_server lthreshold '-2' - ignoring"),
    ("delay_loop 0", "real server delay_loop '0' invalid - ignoring"),
    ("connect_timeout 0", "real server connect_timeout 0 invalid - ignoring"),
    ("lvs_method FOO", "PARSER : unknown [FOO] routing method for real server."),
    ("lb_kind DR", "Unknown keyword 'lb_kind'"),
])
def test_bad_real_server_values(line, message):
    result, _vs = one_vs(GOOD + f" real_server 192.0.2.2 80 {{\n {line}\n }}\n")
    assert messages(result) == [message]
    assert result.diagnostics[0].pos.line == 6


def test_real_server_settings_inherit_from_the_virtual_server():
    _result, vs = one_vs(GOOD + " weight 4\n retry 2\n delay_loop 9\n real_server 192.0.2.2 80 {\n retry 5\n }\n")
    rs = vs.real_server[0]
    assert (rs.weight, rs.retry, rs.delay_loop) == (None, 5, None)
    assert vs.rs_setting(rs, "weight") == 4 and vs.rs_setting(rs, "retry") == 5
    assert vs.rs_setting(rs, "delay_loop") == 9 and vs.rs_setting(rs, "lvs_method") == Forwarding("NAT")
    assert vs.rs_setting(rs, "smtp_alert") is True


# --------------------------------------------------------------------------- keys
def test_virtual_server_keys():
    _r, ip = one_vs(GOOD)
    _r, fw = one_vs(GOOD, "fwmark 3")
    _r, grp = one_vs(GOOD, "group G")
    _r, bare = one_vs("", "2001:db8::1")
    assert ip.key == ("ip", IP("192.0.2.1"), 80, "TCP")
    assert fw.key == ("fwmark", 3, "inet")
    assert grp.key == ("group", "G", "TCP")
    assert bare.key == ("ip", IP("2001:db8::1"), 0, "UDP")


# --------------------------------------------------------------------------- virtual_server_group
def test_virtual_server_group_entries():
    result = load_text("""virtual_server_group G {
    192.0.2.100 80
    192.0.2.101-110 80
    192.0.2.250-192.0.3.10
    198.51.100.8/29 0080
    2001:db8::10-1f 443
    fwmark 1
    fwmark 2 inet6
}
""")
    # keepalived keeps the entries but drops a group mixing both families with a family-less fwmark
    assert messages(result) == ["virtual server group G cannot have IPv4, IPv6 and fwmark without family - removing"]
    (vsg,) = result.config.virtual_server_group
    assert vsg.name == "G"
    assert vsg.entries == (
        VsgRange(IP("192.0.2.100"), IP("192.0.2.100"), 80),
        VsgRange(IP("192.0.2.101"), IP("192.0.2.110"), 80),
        VsgRange(IP("192.0.2.250"), IP("192.0.3.10"), None),
        VsgRange(IP("198.51.100.8"), IP("198.51.100.15"), 80),
        VsgRange(IP("2001:db8::10"), IP("2001:db8::1f"), 443),
        VsgFwmark(1),
        VsgFwmark(2, "inet6"),
    )
    assert len(vsg.entries[1].addresses()) == 10
    assert vsg.have_ipv4 and vsg.have_ipv6 and vsg.fwmark_no_family
    assert vsg.entries[0].pos.line == 2
    roundtrip(result)


@pytest.mark.parametrize("entry,message", [
    ("192.0.2.110-100 80", "Address range end is not greater than address range start - 192.0.2.110-100 - skipping"),
    ("192.0.2.9/29 80", "Address mask bits not empty - 192.0.2.9/29 - skipping"),
    ("192.0.2.8/33 80", "Invalid netmask - 192.0.2.8/33 - skipping"),
    ("192.0.2.300 80", "Invalid virtual server group IP address 192.0.2.300 /port/80 - skipping"),
    ("192.0.2.10-192.0.2.1", "Address range end is less than address range start - 192.0.2.10-192.0.2.1 - skipping"),
    ("fwmark 5 ipx", "fwmark '5' family ipx unknown - ignoring"),
    ("fwmark -1", "fwmark '-1' must be in [0, 4294967295] - ignoring"),
])
def test_bad_group_entries(entry, message):
    result = load_text(f"virtual_server_group G {{\n 192.0.2.1 80\n {entry}\n}}\n")
    assert messages(result) == [message]
    assert result.diagnostics[0].pos.line == 3
    assert len(result.config.virtual_server_group[0].entries) == 1


def test_group_without_entries_and_mixed_families_are_removed():
    result = load_text("virtual_server_group E {\n}\nvirtual_server_group M {\n 192.0.2.1 80\n 2001:db8::1 80\n"
                       " fwmark 1\n}\n")
    assert messages(result) == ["virtual server group E has no entries - removing",
                                "virtual server group M cannot have IPv4, IPv6 and fwmark without family - removing"]


def test_missing_group_is_only_logged():
    result = load_text(vs_text(GOOD + RS, "group NOPE"))
    assert result.exit_status == 0
    assert logged(result) == ["Virtual server group NOPE specified but not configured - ignoring virtual server "
                              "[NOPE]:0"]


def test_group_family_must_match_the_virtual_server():
    result = load_text("virtual_server_group G {\n 2001:db8::1 80\n}\n" + vs_text(GOOD + RS, "group G"))
    assert result.exit_status == 0
    assert "G: address family doesn't match virtual server [G]:0 - ignoring" in logged(result)


# --------------------------------------------------------------------------- validate_check_config
def test_no_real_servers():
    result, _vs = one_vs(GOOD)
    assert messages(result) == ["Virtual server [192.0.2.1]:tcp:80 has no real servers - ignoring"]


def test_unset_protocol_scheduler_method_and_zero_port():
    result, _vs = one_vs(RS, "192.0.2.1")
    assert messages(result) == [
        "Virtual server [192.0.2.1]:none:0: no protocol set - defaulting to UDP",
        "Virtual server [192.0.2.1]:udp:0: zero port only valid for persistent services - setting",
        "Virtual server [192.0.2.1]:udp:0: no scheduler set, setting default 'wlc'",
        "Virtual server [192.0.2.1]:udp:0: no forwarding method set, setting default NAT",
    ]
    assert result.exit_status == 5


def test_fwmark_with_protocol_and_ha_suspend():
    result, _vs = one_vs(GOOD + " ha_suspend\n" + RS, "fwmark 1")
    assert messages(result) == [
        "Virtual server FWM 1: cannot use ha_suspend with fwmarks - clearing ha_suspend",
        "Warning: Virtual server FWM 1: protocol specified for fwmark - protocol will be ignored",
    ]


def test_ops_requires_udp():
    result, _vs = one_vs(GOOD + " ops\n" + RS)
    assert messages(result) == ["Virtual server [192.0.2.1]:tcp:80: one packet scheduling requires UDP - resetting"]


def test_duplicate_real_server_quorum_and_hysteresis():
    result, _vs = one_vs(GOOD + " quorum 10\n hysteresis 5\n real_server 192.0.2.2 80 {\n weight 2\n }\n" + RS)
    assert messages(result) == [
        "VS [192.0.2.1]:tcp:80: real server [192.0.2.2]:tcp:80 is duplicated - removing second rs",
        "Warning - quorum 10 for [192.0.2.1]:tcp:80 exceeds total weight of real servers 2, reducing quorum to 2",
        "Virtual server [192.0.2.1]:tcp:80: hysteresis 5 >= quorum 2; setting hysteresis to 1",
    ]


def test_dr_port_checks():
    result, _vs = one_vs(GOOD.replace("NAT", "DR") + " real_server 192.0.2.2 81 {\n }\n"
                         " sorry_server 192.0.2.9 82\n")
    assert messages(result) == [
        "WARNING - virtual server [192.0.2.1]:tcp:80 and real server [192.0.2.2]:tcp:81 ports don't match - resetting",
        "WARNING - virtual server [192.0.2.1]:tcp:80 and sorry server ports don't match - resetting",
    ]
    result, _vs = one_vs(GOOD.replace("NAT", "DR").replace(" protocol TCP\n", "") + " real_server 192.0.2.2 81 {\n }\n",
                         "fwmark 4")
    assert messages(result) == ["WARNING - fwmark virtual server FWM 4, real server [192.0.2.2]:none:81 has port "
                                "specified - clearing"]


def test_address_families():
    result, vs = one_vs(GOOD + " ip_family inet6\n real_server 2001:db8::2 80 {\n }\n" + RS +
                        " sorry_server 2001:db8::9 80\n")
    assert messages(result) == [
        "Virtual server specified family inet6 conflicts with server family",
        "Address family of virtual server and real server 2001:db8::2 don't match - skipping real server.",
        "Address family of virtual server and sorry server 2001:db8::9 don't match - skipping sorry server.",
    ]


def test_tunnelled_real_servers_may_mix_families():
    result, _vs = one_vs(GOOD + " real_server 2001:db8::2 80 {\n lvs_method TUN\n }\n" + RS)
    assert not messages(result)


def test_sorry_server_keywords_need_a_sorry_server():
    result, _vs = one_vs(GOOD + " sorry_server_inhibit\n sorry_server_lvs_method DR\n" + RS)
    assert messages(result) == ["Ignoring sorry_server inhibit used before or without sorry_server",
                                "sorry_server forwarding used without sorry_server"]


def test_sorry_server_matching_a_real_server_with_other_inhibit():
    result, _vs = one_vs(GOOD + " sorry_server 192.0.2.2 80\n real_server 192.0.2.2 80 {\n inhibit_on_failure\n }\n")
    assert messages(result) == ["Virtual server [192.0.2.1]:tcp:80: real server [192.0.2.2]:tcp:80 matches sorry "
                                "server, but inhibit setting differs, setting on sorry server"]


def test_repeated_scripts_keep_the_first():
    result, vs = one_vs(GOOD + " quorum_up /x/a\n quorum_up /x/b\n real_server 192.0.2.2 80 {\n notify_down /x/c\n"
                        " notify_down /x/d\n }\n")
    assert vs.quorum_up == NotifyScript("/x/a") and vs.real_server[0].notify_down == NotifyScript("/x/c")
    assert messages(result) == ["((null)) quorum_up script already specified - ignoring /x/b",
                                "((null)) notify_down script already specified - ignoring /x/d"]


def test_notify_script_without_a_command_is_keepalived_missing_parameter():
    result, vs = one_vs(GOOD + " quorum_up\n" + RS)
    assert vs.quorum_up is None
    assert [d.code for d in result.diagnostics] == [ConfigErr.MISSING_PARAMETER]


def test_existing_scripts_without_script_security(tmp_path):
    script = tmp_path / "up.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    result, _vs = one_vs(GOOD + f" quorum_up {script}\n" + RS)
    assert result.exit_status == 6
    result, _vs = one_vs(GOOD + " quorum_up /nonexistent/up.sh\n" + RS)
    assert result.exit_status == 0


# --------------------------------------------------------------------------- samples and parity files
@pytest.mark.skipif(not SAMPLES.is_dir(), reason="Debian keepalived samples not installed")
@pytest.mark.parametrize("name", LVS_SAMPLES)
def test_debian_lvs_samples_parse_and_round_trip(name):
    result = load_config(str(SAMPLES / f"keepalived.conf.{name}"), check_interfaces=False)
    lvs_lines = set()
    for vs in result.config.virtual_server:
        end = max([vs.pos.line] + [rs.pos.line for rs in vs.real_server])
        lvs_lines.update(range(vs.pos.line, end + 40))
    unknown = [str(d) for d in result.diagnostics if d.code == ConfigErr.UNKNOWN_KEYWORD
               and d.pos is not None and d.pos.line in lvs_lines]
    assert not unknown
    assert result.config.virtual_server
    again = load_text(write_config(result.config))
    assert again.config == result.config


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="Debian keepalived samples not installed")
def test_fwmark_sample_gives_keepalived_warning():
    result = load_config(str(SAMPLES / "keepalived.conf.fwmark"), check_interfaces=False)
    assert "Warning: Virtual server FWM 1: protocol specified for fwmark - protocol will be ignored" in messages(result)


#: parity files where we knowingly differ, and why
KNOWN_DIFFERENCES: dict[str, str] = {}


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.xfail(reason=KNOWN_DIFFERENCES[p.stem], strict=True))
                                  if p.stem in KNOWN_DIFFERENCES else p for p in PARITY], ids=lambda p: p.stem)
def test_parity_configs_exit_as_keepalived_did(path):
    expect = re.search(r"# expect: keepalived exit (\d+)", path.read_text().splitlines()[0])
    assert expect, "first line must record keepalived's exit status"
    result = load_config(str(path), check_interfaces=False)
    assert result.exit_status == int(expect.group(1)), [str(d) for d in result.diagnostics]
    again = load_text(write_config(result.config))
    assert again.config == result.config


def test_every_keyword_of_the_lvs_models_is_declared_once():
    for cls in (VirtualServer, RealServer):
        names = [spec.name for _f, spec in keyword_specs(cls)]
        assert len(names) == len(set(names))
