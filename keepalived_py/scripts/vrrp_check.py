"""The script checks keepalived makes for the VRRP process, without running anything.

keepalived 2.2.7 vrrp.c check_vrrp_script_security(), run while the configuration is
completed (also under -t / --config-test): every vrrp_script, every instance and sync group
notify script and the notify FIFO scripts go through check_script_secure(); refused ones
are disabled, and if any script would run while enable_script_security is not set the
configuration error "SECURITY VIOLATION - scripts are being executed but script_security
not enabled." is reported (" There are insecure scripts." appended when some are), a
CONFIG_SECURITY_ERROR: keepalived -t then exits 6 (KEEPALIVED_CHK_EXIT_CONFIG_TEST_SECURITY).
The check only happens when there is at least one vrrp_instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keepalived_py.scripts.runner import ScriptRunner
from keepalived_py.scripts.security import security_violation

CONFIG_TEST_SECURITY_EXIT = 6


@dataclass
class VrrpScriptsReport:
    flags: int = 0
    #: (kind, name) of track objects keepalived drops: ("script", NAME), ("file", NAME)
    disabled: set[tuple[str, str]] = field(default_factory=set)
    #: what keepalived logs while checking (path search, unsafe permissions, disabling ...)
    messages: list[str] = field(default_factory=list)
    #: the CONFIG_SECURITY_ERROR text, or None
    violation: str | None = None


def check_vrrp_scripts(config, checker_running: bool = False) -> VrrpScriptsReport:
    from keepalived_py.track.notify import Notifier
    from keepalived_py.track.trackers import Trackers

    report = VrrpScriptsReport()
    if not getattr(config, "vrrp_instance", ()):
        return report
    runner = ScriptRunner.from_config(config, log_fn=report.messages.append)
    trackers = Trackers(runner, log_fn=report.messages.append)
    report.disabled = trackers.prepare(config)
    notifier = Notifier(runner, checker_running=checker_running, log_fn=report.messages.append)
    notifier.prepare(config)
    report.flags = trackers.script_flags | notifier.script_flags
    report.violation = security_violation(report.flags, runner.script_security)
    return report
