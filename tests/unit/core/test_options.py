"""Option parsing follows keepalived's getopt_long loop."""

from __future__ import annotations

import syslog

import pytest

from keepalived_py.core.options import (
    DEFAULT_CONFIG_FILE,
    LONG_OPTS,
    SHORT_TABLE,
    Action,
    parse_args,
    parse_facility,
    parse_umask,
)


def test_defaults():
    o = parse_args([])
    assert o.action is Action.RUN
    assert o.conf_file == DEFAULT_CONFIG_FILE
    assert (o.run_vrrp, o.run_check, o.run_bfd, o.run_all) == (True, True, True, False)
    assert o.log_facility == syslog.LOG_DAEMON
    assert not o.dont_fork and not o.bad


def test_every_help_option_is_known():
    letters = "fPCBlDSGuXVIRndprTcabxAsmMeitvh"
    for letter in letters:
        assert letter in SHORT_TABLE, letter
    for name in ("use-file", "vrrp", "check", "no_bfd", "all", "log-console", "log-detail",
                 "log-facility", "no-syslog", "umask", "release-vips", "dont-release-vrrp",
                 "dont-release-ipvs", "dont-respawn", "dont-fork", "dump-conf", "pid", "vrrp_pid",
                 "genhash", "checkers_pid", "address-monitoring", "bfd_pid", "snmp",
                 "snmp-agent-socket", "namespace", "core-dump", "core-dump-pattern", "all-config",
                 "config-id", "signum", "config-test", "version", "help"):
        assert name in LONG_OPTS, name


def test_short_cluster_and_attached_values():
    o = parse_args(["-nlDD", "-fconf", "-p", "/x/p", "-S", "local3", "-u0027"])
    assert o.dont_fork and o.log_console and o.log_detail == 2
    assert o.config_file == "conf" and o.main_pidfile == "/x/p"
    assert o.log_facility == syslog.LOG_LOCAL3
    assert o.umask == 0o027


def test_long_forms_and_prefixes():
    o = parse_args(["--use-file=/a", "--vrrp_pid", "/r", "--checkers=/c", "--bfd_pid=/b",
                    "--dont-f", "--log-facility=user", "--namespace", "ns1", "--config-id=x"])
    assert o.config_file == "/a" and o.vrrp_pidfile == "/r" and o.checkers_pidfile == "/c"
    assert o.bfd_pidfile == "/b" and o.dont_fork and o.log_facility == syslog.LOG_USER
    assert o.namespace == "ns1" and o.config_id == "x"


def test_ambiguous_prefix_is_unknown():
    o = parse_args(["--dont"])
    assert o.errors == ["Unknown option --dont"]


def test_missing_and_empty_parameters():
    assert parse_args(["-f"]).errors == ["Missing parameter for option -f"]
    assert parse_args(["--pid="]).errors == ["Missing parameter for option --pid"]
    assert parse_args(["--pid"]).errors == ["Missing parameter for option --pid"]


def test_unknown_options_and_stray_words():
    o = parse_args(["--bogus", "-Q", "word", "-n"])
    assert o.errors == ["Unknown option --bogus", "Unknown option -Q"]
    assert o.unexpected == ["word"] and o.dont_fork and o.bad


def test_config_test_optional_value_only_attached():
    o = parse_args(["-t"])
    assert o.config_test and o.config_test_log is None
    assert o.dont_fork and o.no_syslog and o.dont_respawn
    assert parse_args(["-t/tmp/log"]).config_test_log == "/tmp/log"
    assert parse_args(["--config-test=/tmp/l"]).config_test_log == "/tmp/l"
    o = parse_args(["-t", "/tmp/log"])
    assert o.config_test_log is None and o.unexpected == ["/tmp/log"]


def test_process_selection():
    o = parse_args(["-P"])
    assert o.run_vrrp and not o.run_check and o.run_bfd
    o = parse_args(["-C", "-B"])
    assert not o.run_vrrp and o.run_check and not o.run_bfd
    o = parse_args(["-C", "--all"])
    assert o.run_all and o.run_vrrp and o.run_check and o.run_bfd


@pytest.mark.parametrize("argv,action", [
    (["-v", "--bogus"], Action.VERSION), (["-h"], Action.HELP),
    (["--signum=JSON", "-x"], Action.SIGNUM), (["-T", "-x"], Action.GENHASH),
])
def test_immediate_actions_stop_parsing(argv, action):
    o = parse_args(argv)
    assert o.action is action and not o.errors


def test_core_dump_pattern_default_and_flags():
    assert parse_args(["-M"]).core_dump_pattern == "core"
    o = parse_args(["-Mcore.%p", "-x", "-A/s", "-a", "-X", "-V", "-I", "-R", "-d", "-e", "-m", "-G"])
    assert o.core_dump and o.core_dump_pattern == "core.%p" and o.snmp and o.snmp_socket == "/s"
    assert o.address_monitoring and o.release_vips and o.dont_release_vrrp
    assert o.dont_release_ipvs and o.dont_respawn and o.dump_conf and o.include_check
    assert o.no_syslog


def test_log_file_option_rejected_like_debian_build():
    assert parse_args(["-g"]).errors == ["-g requires configure option --enable-log-file"]


def test_facility_and_umask_values():
    assert parse_facility("0") == syslog.LOG_LOCAL0
    assert parse_facility("local7") == syslog.LOG_LOCAL7
    assert parse_facility("daemon") == syslog.LOG_DAEMON
    assert parse_facility("8") is None and parse_facility("kern") is None
    assert parse_umask("022") == 0o22 and parse_umask("0x12") == 0x12 and parse_umask("18") == 18
    assert parse_umask("01000") is None and parse_umask("abc") is None
    o = parse_args(["-S", "bad", "-u", "zz"])
    assert o.warnings == ["Invalid log facility 'bad'", "Invalid --umask option zz"]
    assert not o.bad


def test_double_dash_ends_options():
    o = parse_args(["-n", "--", "-l"])
    assert o.dont_fork and not o.log_console and o.unexpected == ["-l"]


def test_dump_json_extra_is_exact_only():
    assert parse_args(["--dump-json"]).dump_json
    o = parse_args(["--dump"])  # still keepalived's --dump-conf
    assert o.dump_conf and not o.dump_json and not o.errors
    assert parse_args(["--dump-j"]).errors == ["Unknown option --dump-j"]
