"""Log lines read as keepalived's."""

from __future__ import annotations

import logging
import os
import syslog
import time

from keepalived_py import log as kalog
from keepalived_py.core.options import parse_args


def test_c_time_is_c_locale_percent_c():
    when = time.mktime((2026, 11, 5, 8, 5, 4, 0, 0, -1))
    assert kalog.c_time(when) == "Thu Nov  5 08:05:04 2026"
    assert kalog.console_line("Stopping", when) == "Thu Nov  5 08:05:04 2026: Stopping\n"


def test_command_line_wraps_like_keepalived():
    argv = ["keepalived", "-n", "-l", "-G", "-D", "-f", "/tmp/kref/k.conf", "-p", "/tmp/kref/p",
            "-r", "/tmp/kref/r", "-c", "/tmp/kref/c", "-b", "/tmp/kref/b"]
    # seen from keepalived 2.2.7 with this command line
    assert kalog.command_line_lines(argv) == [
        "Command line: 'keepalived' '-n' '-l' '-G' '-D' '-f' '/tmp/kref/k.conf' '-p' '/tmp/kref/p' '-r'",
        "              '/tmp/kref/r' '-c' '/tmp/kref/c' '-b' '/tmp/kref/b'",
    ]


def test_settings_from_options():
    s = kalog.LogSettings.from_options(parse_args(["-l", "-S", "2", "-D"]))
    assert not s.console  # -l needs -n, as in keepalived
    assert s.facility == syslog.LOG_LOCAL2 and s.detail == 1 and s.use_syslog
    s = kalog.LogSettings.from_options(parse_args(["-l", "-n", "-G"]), role="vrrp")
    assert s.console and not s.use_syslog and s.ident == "Keepalived_vrrp"


def test_console_handler_writes_keepalived_format():
    r, w = os.pipe()
    try:
        logger = kalog.setup(kalog.LogSettings(use_syslog=False, console=False))
        logger.addHandler(kalog.ConsoleHandler(w))
        logger.info("(VI_1) Entering MASTER STATE")
        logger.debug("hidden without -D")
        data = os.read(r, 4096).decode()
    finally:
        os.close(r)
        os.close(w)
        kalog.setup(kalog.LogSettings(use_syslog=False))
    assert data.endswith(": (VI_1) Entering MASTER STATE\n")
    assert "hidden" not in data


def test_detail_goes_out_at_info_priority():
    assert kalog.syslog_priority(logging.DEBUG) == syslog.LOG_INFO
    assert kalog.syslog_priority(logging.CRITICAL) == syslog.LOG_ALERT
