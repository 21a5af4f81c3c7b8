"""global_defs: every keyword keepalived 2.2.7 installs, defaults, values, messages, round trip."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.loader import load_text
from keepalived_py.config.model.global_defs import GlobalDefs
from keepalived_py.config.model.global_types import (
    FifoSpec,
    IptablesChains,
    LvsSyncDaemon,
    LvsTimeouts,
    RxBufsPolicy,
    ScriptUser,
    SmtpServer,
)
from keepalived_py.config.schema import newer_keywords
from keepalived_py.config.values import GarpExtraIf, NotifyScript
from keepalived_py.config.writer import write_config

UPSTREAM = "/work/.mirror/acassen+keepalived/repo"


def gd(body: str):
    result = load_text("global_defs {\n" + body + "\n}\n")
    return result, (result.config.global_defs or GlobalDefs())


def problems(result):
    return [d for d in result.diagnostics if d.code != ConfigErr.OK]


# --------------------------------------------------------------------------- declaration
def upstream_keywords() -> list[str]:
    try:
        text = subprocess.run(["git", "-C", UPSTREAM, "show", "v2.2.7:keepalived/core/global_parser.c"],
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    body = text[text.index("init_global_keywords(bool"):]
    import re
    return re.findall(r'install_keyword\("([a-z0-9_]+)"', body)


def test_every_upstream_global_defs_keyword_is_declared():
    names = set(GlobalDefs.__kw_table__)
    upstream = upstream_keywords()
    if upstream:  # the mirror is a developer convenience; the list below is the same set
        assert set(upstream) <= names
    assert len(names - newer_keywords(GlobalDefs)) == 126


def test_defaults():
    g = GlobalDefs()
    assert g.router_id is None and g.smtp_server is None and g.notification_email == ()
    assert g.vrrp_mcast_group4 == ipaddress.IPv4Address("224.0.0.18")
    assert g.vrrp_mcast_group6 == ipaddress.IPv6Address("ff02::12")
    assert (g.vrrp_garp_master_delay, g.vrrp_garp_master_repeat) == (5, 5)
    assert (g.vrrp_garp_master_refresh, g.vrrp_garp_master_refresh_repeat) == (0, 1)
    assert g.vrrp_down_timer_adverts == 3 and g.vrrp_version == 2
    assert g.vrrp_garp_interval == 0.0 and g.vrrp_gna_interval == 0.0
    assert g.vrrp_rlimit_rttime == g.checker_rlimit_rttime == g.bfd_rlimit_rttime == 10000
    assert g.max_auto_priority == 0 and g.min_auto_priority_delay == 1_000_000
    assert g.vrrp_rx_bufs_multiplier == 3
    assert g.nftables_priority == -1 and g.nftables_ipvs_start_fwmark == 1000
    assert not g.vrrp_strict and not g.enable_script_security and g.dynamic_interfaces is False


# --------------------------------------------------------------------------- values
CASES = [
    ("router_id lb01", "router_id", "lb01"),
    ("router_id lb01 extra", "router_id", "lb01"),
    ("notification_email_from a@b.c", "notification_email_from", "a@b.c"),
    ("smtp_server 10.0.0.1", "smtp_server", SmtpServer("10.0.0.1", 25)),
    ("smtp_server mail.example.com 2525", "smtp_server", SmtpServer("mail.example.com", 2525)),
    ("smtp_helo_name helo.example", "smtp_helo_name", "helo.example"),
    ("smtp_connect_timeout 45", "smtp_connect_timeout", 45),
    ("smtp_alert", "smtp_alert", True),
    ("smtp_alert off", "smtp_alert", False),
    ("smtp_alert_vrrp no", "smtp_alert_vrrp", False),
    ("smtp_alert_checker yes", "smtp_alert_checker", True),
    ("checker_log_all_failures", "checker_log_all_failures", True),
    ("no_email_faults", "no_email_faults", True),
    ("process_names", "process_names", True),
    ("process_name ka", "process_name", "ka"),
    ("vrrp_process_name kv", "vrrp_process_name", "kv"),
    ("checker_process_name kc", "checker_process_name", "kc"),
    ("lvs_process_name kc", "checker_process_name", "kc"),
    ("bfd_process_name kb", "bfd_process_name", "kb"),
    ("startup_script /bin/true", "startup_script", NotifyScript("/bin/true")),
    ('startup_script "/bin/echo a b" nobody nogroup', "startup_script", NotifyScript("/bin/echo a b", "nobody", "nogroup")),
    ("startup_script_timeout 20", "startup_script_timeout", 20),
    ("shutdown_script /bin/false root", "shutdown_script", NotifyScript("/bin/false", "root")),
    ("shutdown_script_timeout 1000", "shutdown_script_timeout", 1000),
    ("max_auto_priority", "max_auto_priority", 99),
    ("max_auto_priority -1", "max_auto_priority", -1),
    ("min_auto_priority_delay 2000", "min_auto_priority_delay", 2000),
    ("vrrp_priority -20", "vrrp_priority", -20),
    ("checker_priority 19", "checker_priority", 19),
    ("bfd_priority 5", "bfd_priority", 5),
    ("vrrp_no_swap", "vrrp_no_swap", True),
    ("checker_no_swap", "checker_no_swap", True),
    ("bfd_no_swap", "bfd_no_swap", True),
    ("vrrp_rt_priority 50", "vrrp_rt_priority", 50),
    ("checker_rt_priority 1", "checker_rt_priority", 1),
    ("bfd_rt_priority 99", "bfd_rt_priority", 99),
    ("vrrp_cpu_affinity 0", "vrrp_cpu_affinity", (0,)),
    ("vrrp_rlimit_rttime 5000", "vrrp_rlimit_rttime", 5000),
    ("vrrp_rlimit_rtime 5000", "vrrp_rlimit_rttime", 5000),
    ("checker_rlimit_rttime 1", "checker_rlimit_rttime", 2),
    ("bfd_rlimit_rtime 7", "bfd_rlimit_rttime", 7),
    ("dynamic_interfaces", "dynamic_interfaces", True),
    ("dynamic_interfaces allow_if_changes", "dynamic_interfaces", "allow_if_changes"),
    ("default_interface eth1", "default_interface", "eth1"),
    ("lvs_timeouts tcp 900 udp 30", "lvs_timeouts", LvsTimeouts(tcp=900, udp=30)),
    ("lvs_flush", "lvs_flush", True),
    ("lvs_flush_on_stop", "lvs_flush_on_stop", "full"),
    ("lvs_flush_onstop VS", "lvs_flush_on_stop", "VS"),
    ("lvs_sync_daemon eth0", "lvs_sync_daemon", LvsSyncDaemon("eth0")),
    ("lvs_sync_daemon eth0 inst VI_1 id 3 maxlen 1000 port 9000 ttl 4 group 224.0.0.90", "lvs_sync_daemon",
     LvsSyncDaemon("eth0", "VI_1", 3, 1000, 9000, 4, ipaddress.ip_address("224.0.0.90"))),
    ("lvs_sync_daemon eth0 VI_2", "lvs_sync_daemon", LvsSyncDaemon("eth0", "VI_2")),
    ("vrrp_mcast_group4 224.0.0.19", "vrrp_mcast_group4", ipaddress.IPv4Address("224.0.0.19")),
    ("vrrp_mcast_group6 ff02::13", "vrrp_mcast_group6", ipaddress.IPv6Address("ff02::13")),
    ("vrrp_garp_master_delay 0", "vrrp_garp_master_delay", 0),
    ("vrrp_garp_master_repeat 2", "vrrp_garp_master_repeat", 2),
    ("vrrp_garp_master_refresh 60", "vrrp_garp_master_refresh", 60),
    ("vrrp_garp_master_refresh_repeat 3", "vrrp_garp_master_refresh_repeat", 3),
    ("vrrp_garp_lower_prio_delay 7", "vrrp_garp_lower_prio_delay", 7),
    ("vrrp_garp_lower_prio_repeat 0", "vrrp_garp_lower_prio_repeat", 0),
    ("vrrp_down_timer_adverts 100", "vrrp_down_timer_adverts", 100),
    ("vrrp_garp_interval 0.001", "vrrp_garp_interval", 0.001),
    ("vrrp_gna_interval 0.000001", "vrrp_gna_interval", 0.000001),
    ("vrrp_min_garp", "vrrp_min_garp", True),
    ("vrrp_min_garp false", "vrrp_min_garp", False),
    ("vrrp_garp_extra_if 100", "vrrp_garp_extra_if", GarpExtraIf(100)),
    ("vrrp_garp_extra_if all 300", "vrrp_garp_extra_if", GarpExtraIf(300, True)),
    ("vrrp_lower_prio_no_advert", "vrrp_lower_prio_no_advert", True),
    ("vrrp_lower_prio_no_advert false", "vrrp_lower_prio_no_advert", False),
    ("vrrp_higher_prio_send_advert on", "vrrp_higher_prio_send_advert", True),
    ("vrrp_version 3", "vrrp_version", 3),
    ("nftables", "nftables", "keepalived"),
    ("nftables mytable", "nftables", "mytable"),
    ("nftables_priority -100", "nftables_priority", -100),
    ("nftables_ifindex", "nftables_ifindex", True),
    ("nftables_ipvs", "nftables_ipvs", "keepalived_ipvs"),
    ("nftables_ipvs_priority 10", "nftables_ipvs_priority", 10),
    ("nftables_ipvs_start_fwmark 5000", "nftables_ipvs_start_fwmark", 5000),
    ("nftables_counters", "nftables_counters", True),
    ("vrrp_check_unicast_src", "vrrp_check_unicast_src", True),
    ("vrrp_skip_check_adv_addr", "vrrp_skip_check_adv_addr", True),
    ("vrrp_strict", "vrrp_strict", True),
    ("notify_fifo /run/f", "notify_fifo", FifoSpec("/run/f")),
    ("notify_fifo_script /bin/x root", "notify_fifo_script", NotifyScript("/bin/x", "root")),
    ("vrrp_notify_fifo /run/v root root", "vrrp_notify_fifo", FifoSpec("/run/v", "root", "root")),
    ("vrrp_notify_fifo_script /bin/y", "vrrp_notify_fifo_script", NotifyScript("/bin/y")),
    ("vrrp_notify_priority_changes", "vrrp_notify_priority_changes", True),
    ("fifo_write_vrrp_states_on_reload", "fifo_write_vrrp_states_on_reload", True),
    ("lvs_notify_fifo /run/l", "lvs_notify_fifo", FifoSpec("/run/l")),
    ("lvs_notify_fifo_script /bin/z", "lvs_notify_fifo_script", NotifyScript("/bin/z")),
    ("snmp_socket udp:1.2.3.4:705", "snmp_socket", "udp:1.2.3.4:705"),
    ("enable_traps", "enable_traps", True),
    ("enable_snmp_vrrp", "enable_snmp_vrrp", True),
    ("enable_snmp_keepalived", "enable_snmp_vrrp", True),
    ("enable_snmp_rfc", "enable_snmp_rfc", True),
    ("enable_snmp_rfcv2", "enable_snmp_rfcv2", True),
    ("enable_snmp_rfcv3", "enable_snmp_rfcv3", True),
    ("enable_snmp_checker", "enable_snmp_checker", True),
    ("enable_dbus", "enable_dbus", True),
    ("dbus_service_name org.x.Y", "dbus_service_name", "org.x.Y"),
    ("script_user nobody", "script_user", ScriptUser("nobody")),
    ("script_user nobody nogroup", "script_user", ScriptUser("nobody", "nogroup")),
    ("enable_script_security", "enable_script_security", True),
    ("vrrp_netlink_cmd_rcv_bufs 1024", "vrrp_netlink_cmd_rcv_bufs", 1024),
    ("vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_cmd_rcv_bufs_force", True),
    ("vrrp_netlink_monitor_rcv_bufs 2048", "vrrp_netlink_monitor_rcv_bufs", 2048),
    ("vrrp_netlink_monitor_rcv_bufs_force off", "vrrp_netlink_monitor_rcv_bufs_force", False),
    ("process_monitor_rcv_bufs 500000", "process_monitor_rcv_bufs", 500000),
    ("process_monitor_rcv_bufs_force", "process_monitor_rcv_bufs_force", True),
    ("lvs_netlink_cmd_rcv_bufs 4096", "lvs_netlink_cmd_rcv_bufs", 4096),
    ("lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_cmd_rcv_bufs_force", True),
    ("lvs_netlink_monitor_rcv_bufs 8192", "lvs_netlink_monitor_rcv_bufs", 8192),
    ("lvs_netlink_monitor_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs_force", True),
    ("rs_init_notifies", "rs_init_notifies", True),
    ("no_checker_emails", "no_checker_emails", True),
    ("vrrp_rx_bufs_policy MTU", "vrrp_rx_bufs_policy", RxBufsPolicy("MTU")),
    ("vrrp_rx_bufs_policy advert", "vrrp_rx_bufs_policy", RxBufsPolicy("ADVERT")),
    ("vrrp_rx_bufs_policy 65536", "vrrp_rx_bufs_policy", RxBufsPolicy(None, 65536)),
    ("vrrp_rx_bufs_multiplier 5", "vrrp_rx_bufs_multiplier", 5),
    ("vrrp_startup_delay 5.5", "vrrp_startup_delay", 5.5),
    ("log_unknown_vrids", "log_unknown_vrids", True),
    ("vmac_prefix vm", "vmac_prefix", "vm"),
    ("vmac_addr_prefix va", "vmac_addr_prefix", "va"),
    ("umask 022", "umask", 0o22),
    ("umask 0x12", "umask", 0o22),
    ("umask 18", "umask", 0o22),
    ("umask IWGRP|IWOTH", "umask", 0o22),
    ("umask IWGRP | IWOTH", "umask", 0o22),
    ("random_seed 7", "random_seed", 7),
    ("reload_check_config", "reload_check_config", "/dev/null"),
    ("reload_check_config /tmp/l", "reload_check_config", "/tmp/l"),
    ("reload_time_file /tmp/t", "reload_time_file", "/tmp/t"),
    ("reload_repeat", "reload_repeat", True),
    ("reload_file", "reload_file", ""),
    ("reload_file /tmp/r", "reload_file", "/tmp/r"),
    ("include_check", "include_check", ()),
    ("include_check +match -wildcard_match", "include_check", ("+match", "-wildcard_match")),
    ("include_check read +brace_match", "include_check", ("read", "+brace_match")),
    ("config_save_dir /tmp/ka", "config_save_dir", "/tmp/ka"),
    ("tmp_config_directory /tmp", "tmp_config_directory", "/tmp"),
    ("data_use_instance", "data_use_instance", True),
    ("data_use_instance false", "data_use_instance", False),
    ("disable_local_igmp", "disable_local_igmp", True),
]


@pytest.mark.parametrize("line,field,value", CASES, ids=[c[0] for c in CASES])
def test_keyword_values(line, field, value):
    result, g = gd(line)
    assert getattr(g, field) == value
    assert [d for d in problems(result) if d.code != ConfigErr.WARNING] == []


def test_email_block_and_empty_block():
    result, g = gd("notification_email {\n a@x\n b@y\n}\nnotification_email {\n c@z\n}")
    assert g.notification_email == ("a@x", "b@y", "c@z")
    result, g = gd("notification_email {\n}")
    assert [d.message for d in problems(result)] == ["Warning - empty notification_email block"]


# --------------------------------------------------------------------------- bad values: messages, lines, codes
BAD = [
    ("router_id", "routerid name missing - ignoring", ConfigErr.GENERAL_ERROR),
    ("vrrp_version 4", "VRRP Error: Version must be either 2 or 3", ConfigErr.GENERAL_ERROR),
    ("vrrp_version x", "VRRP Error: Version must be either 2 or 3", ConfigErr.GENERAL_ERROR),
    ("smtp_connect_timeout 0", "smtp_conect_timeout must be greater than 0, setting to 1", ConfigErr.GENERAL_ERROR),
    ("smtp_server 1.2.3.4 99999", "Invalid smtp server 1.2.3.4 99999", ConfigErr.GENERAL_ERROR),
    ("vrrp_garp_master_delay -1", "vrrp_garp_master_delay '-1' invalid - ignoring", ConfigErr.GENERAL_ERROR),
    ("vrrp_garp_master_repeat 0", "vrrp_garp_master_repeat must be greater than 0, setting to 1",
     ConfigErr.GENERAL_ERROR),
    ("umask 0777x", "invalid umask value 0777x", ConfigErr.GENERAL_ERROR),
    ("umask IWGRP|IWXXX", "Unknown umask bit IWXXX", ConfigErr.GENERAL_ERROR),
    ("umask 022 033", "Extra parameter(s) to umask option", ConfigErr.GENERAL_ERROR),
    ("snmp_socket a b", "Too many parameters specified for snmp_socket - ignoring", ConfigErr.GENERAL_ERROR),
    ("max_auto_priority 200", "max_auto_priority '200' must be in [0, 99] (or -1 to disable) - ignoring",
     ConfigErr.GENERAL_ERROR),
    ("vrrp_priority 30", "Invalid vrrp process priority specified", ConfigErr.GENERAL_ERROR),
    ("checker_priority", "No checker process priority specified", ConfigErr.GENERAL_ERROR),
    ("vrrp_rt_priority 200", "vrrp process real-time priority 200 greater than maximum 99 - setting to maximum",
     ConfigErr.GENERAL_ERROR),
    ("bfd_rt_priority 0", "bfd process real-time priority 0 less than minimum 1 - setting to minimum",
     ConfigErr.GENERAL_ERROR),
    ("vrrp_cpu_affinity 4096", "Invalid cpu_id:4096 specified for vrrp process", ConfigErr.GENERAL_ERROR),
    ("process_name abcdefghijklmnopq", "Process name abcdefghijklmnopq more than 15 characters, truncating",
     ConfigErr.GENERAL_ERROR),
    ("vrrp_mcast_group4 10.0.0.1", "vrrp_mcast_group4 [10.0.0.1] is not multicast. Skipping",
     ConfigErr.GENERAL_ERROR),
    ("vrrp_mcast_group4 ff02::12", "vrrp_mcast_group4 [ff02::12] is not IPv4. Skipping", ConfigErr.GENERAL_ERROR),
    ("vrrp_mcast_group6 zz", "Can't parse vrrp_mcast_group6 [zz]. Skipping", ConfigErr.GENERAL_ERROR),
    ("vrrp_mcast_group6 ff05::12", "vrrp_mcast_group6 [ff05::12] should be link-local multicast.",
     ConfigErr.WARNING),
    ("lvs_sync_daemon eth0 VI_1 5", "Please use keyword \"id\" before lvs_sync_daemon SYNCID",
     ConfigErr.GENERAL_ERROR),
    ("lvs_sync_daemon eth0 group 10.0.0.1", "lvs_sync_daemon group address 10.0.0.1 is not multicast - ignoring",
     ConfigErr.GENERAL_ERROR),
    ("lvs_timeouts tcp", "lvs_timeouts requires at least one option", ConfigErr.GENERAL_ERROR),
    ("lvs_timeouts tcp 1 foo", "Unknown option foo specified for lvs_timeouts", ConfigErr.GENERAL_ERROR),
    ("lvs_flush_on_stop RS", "Unknown lvs_flush_on_stop type RS", ConfigErr.GENERAL_ERROR),
    ("dynamic_interfaces foo", "Unknown dynamic_interfaces option 'foo'", ConfigErr.GENERAL_ERROR),
    ("vrrp_garp_extra_if all", "vrrp_garp_extra_if specified without time - ignoring", ConfigErr.GENERAL_ERROR),
    ("vrrp_vmac_garp_intvl 10", "\"vrrp_vmac_garp_intvl\" is deprecated. Please use \"vrrp_garp_extra_if\"",
     ConfigErr.DEPRECATED),
    ("vrrp_iptables", "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and "
                      "'vrrp_ipsets' with 'nftables' config option", ConfigErr.GENERAL_ERROR),
    ("vrrp_garp_interval 0", "vrrp_garp_interval '0' is invalid", ConfigErr.GENERAL_ERROR),
    ("vrrp_startup_delay 0.0001", "vrrp_startup_delay '0.0001' is invalid", ConfigErr.GENERAL_ERROR),
    ("random_seed -1", "random_seed -1 invalid", ConfigErr.GENERAL_ERROR),
    ("reload_time_file a b", "reload_time_file invalid", ConfigErr.GENERAL_ERROR),
    ("tmp_config_directory", "tmp_config_directory missing directory name", ConfigErr.GENERAL_ERROR),
    ("vrrp_rx_bufs_policy MTU ADVERT", "Cannot set both vrrp_rx_bufs_policy MTU and ADVERT, ignoring ADVERT",
     ConfigErr.GENERAL_ERROR),
    ("vrrp_rx_bufs_multiplier 1 2", "Invalid vrrp_rx_bufs_multiplier", ConfigErr.GENERAL_ERROR),  # keepalived -t
    ("smtp_alert maybe", "Invalid value 'maybe' for global smtp_alert specified", ConfigErr.GENERAL_ERROR),
    ("vmac_prefix", "*** Configuration line starting `vmac_prefix` is missing a parameter after keyword "
                    "`vmac_prefix` at word position 2", ConfigErr.MISSING_PARAMETER),
    ("nftables_priority x", "invalid nftables chain priority 'x'", ConfigErr.GENERAL_ERROR),
    ("notify_fifo", "No notify_fifo name specified", ConfigErr.GENERAL_ERROR),
    ("vrrp_notify_fifo", "No vrrp_notify_fifo name specified", ConfigErr.GENERAL_ERROR),
    ("script_user", "No script username specified", ConfigErr.GENERAL_ERROR),
    ("include_check readable", "Unknown include_check type 'readable' - ignoring", ConfigErr.GENERAL_ERROR),
    ("include_check read match", "Duplicate include_check 'match' specified - ignoring", ConfigErr.GENERAL_ERROR),
    ("vrrp_startup_delay 1.0000001", "number '1.0000001' has too many decimal places", ConfigErr.INVALID_NUMBER),
    ("process_name", "*** Configuration line starting `process_name` is missing a parameter after keyword "
                     "`process_name` at word position 2", ConfigErr.MISSING_PARAMETER),
]


@pytest.mark.parametrize("line,message,code", BAD, ids=[b[0] for b in BAD])
def test_bad_values(line, message, code):
    result, _g = gd(line)
    found = problems(result)
    assert any(d.message == message and d.code == code and d.pos.line == 2 for d in found), \
        [(d.code, d.message) for d in found]
    # keepalived exits at once with 2 on a missing parameter (null_strvec), else -t gives 5
    assert result.exit_status == (2 if code == ConfigErr.MISSING_PARAMETER else 5)


def test_bad_value_keeps_default_and_later_lines():
    result, g = gd("vrrp_version 9\nrouter_id ok")
    assert g.vrrp_version == 2 and g.router_id == "ok"


def test_vrrp_ipsets_rejected_like_this_build():
    result, g = gd("vrrp_ipsets ka ka6")
    assert g.vrrp_ipsets == ("ka", "ka6") and result.exit_status == 5


def test_iptables_chains():
    _result, g = gd("vrrp_iptables IN OUT")
    assert g.vrrp_iptables == IptablesChains("IN", "OUT")
    _result, g = gd("vrrp_iptables")
    assert g.vrrp_iptables == IptablesChains()


def test_extra_words_ignored_like_keepalived():
    result, g = gd("vrrp_strict yes please\nenable_traps now")
    assert g.vrrp_strict and g.enable_traps and problems(result) == []


# --------------------------------------------------------------------------- round trip
FULL = Path(__file__).resolve().parents[3] / "conformance/configs/global/good_full_global_defs.conf"


def test_round_trip_full_block():
    result = load_text(FULL.read_text())
    assert problems(result) == []
    text = write_config(result.config)
    again = load_text(text)
    assert again.config.global_defs == result.config.global_defs
    assert problems(again) == []


@pytest.mark.parametrize("line,field,value", CASES, ids=[c[0] for c in CASES])
def test_round_trip_each_keyword(line, field, value):
    result, g = gd(line)
    text = write_config(result.config)
    again = load_text(text).config.global_defs or GlobalDefs()
    assert again == g


# --------------------------------------------------------------------------- Debian samples
SAMPLES = Path("/usr/share/doc/keepalived/samples")
#: unknown keywords there that belong to other areas (vrrp_sync_group members without 'group')
OTHER_AREAS = {"keepalived.conf.vrrp.lvs_syncd"}
MY_PARTS = ("global_defs", "static_ipaddress", "static_routes", "static_rules", "bfd_instance", "track_group",
            "linkbeat_interfaces", "interface_up_down_delays", "ssl")


def samples() -> list[Path]:
    return sorted(SAMPLES.glob("keepalived.conf.*")) if SAMPLES.is_dir() else []


@pytest.mark.parametrize("path", samples(), ids=lambda p: p.name)
def test_debian_samples_parse_and_round_trip(path: Path):
    from keepalived_py.config.loader import load_config
    result = load_config(str(path), check_interfaces=False)
    if path.name not in OTHER_AREAS:
        assert [str(d) for d in result.diagnostics if d.code == ConfigErr.UNKNOWN_KEYWORD] == []
    again = load_text(write_config(result.config))
    for part in MY_PARTS:
        assert getattr(again.config, part) == getattr(result.config, part), part


def test_samples_exercise_this_area():
    if not samples():
        from tests.envcheck import keepalived_binary
        keepalived_binary()
        pytest.fail("Debian samples missing although keepalived is installed")
    loaded = [load_text((SAMPLES / n).read_text()).config for n in
              ("keepalived.conf.vrrp.static_ipaddress", "keepalived.conf.vrrp.routes", "keepalived.conf.vrrp.rules")]
    assert loaded[0].static_ipaddress and any(i.virtual_routes for i in loaded[1].vrrp_instance)
    assert loaded[0].global_defs.router_id == "LVS_DEVEL"
    vrrp = load_text((SAMPLES / "keepalived.conf.vrrp").read_text()).config.global_defs
    assert vrrp.notification_email == ("acassen",) and vrrp.smtp_server == SmtpServer("192.168.200.1")
    assert vrrp.smtp_connect_timeout == 30
