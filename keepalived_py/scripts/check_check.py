"""The script checks keepalived makes for the checker process, without running anything.

keepalived 2.2.7 check_data.c check_check_script_security(), run while the checker's
configuration is completed (also under -t / --config-test) when there is a virtual server:
every MISC_CHECK script (check_misc.c check_misc_script_security(): one that is insecure
under enable_script_security, or cannot be found, is logged "Disabling misc script ..." and
its checker removed), every virtual server's quorum_up / quorum_down, every real server's
notify_up / notify_down, and the notify_fifo and lvs_notify_fifo scripts go through
check_script_secure() as their user (their own `user`, else script_user / keepalived_script /
root). If any of them is a script while enable_script_security is not set, the configuration
error "SECURITY VIOLATION - check scripts are being executed but script_security not
enabled." is reported (" There are insecure scripts." appended when some are): a
CONFIG_SECURITY_ERROR, so keepalived -t exits 6.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keepalived_py.scripts.runner import ScriptRunner
from keepalived_py.scripts.security import (
    SC_EXECUTABLE,
    SC_INHIBIT,
    SC_INSECURE,
    SC_ISSCRIPT,
    SC_NOTFOUND,
    SC_SYSTEM,
)

CHECK_SECURITY_VIOLATION = "SECURITY VIOLATION - check scripts are being executed but script_security not enabled."
INSECURE_SUFFIX = " There are insecure scripts."


@dataclass
class CheckScriptsReport:
    flags: int = 0
    #: the misc_path of each MISC_CHECK keepalived removes (insecure, not found, not executable)
    disabled: list[str] = field(default_factory=list)
    #: what keepalived logs while checking (path search, unsafe permissions, disabling ...)
    messages: list[str] = field(default_factory=list)
    #: the CONFIG_SECURITY_ERROR text, or None
    violation: str | None = None


def _flags(runner: ScriptRunner, command: str | None, user: str | None, group: str | None) -> tuple[int, int | None]:
    """(check_script_secure() flags, the same flags or None when the script is refused before
    its check: an unknown user, an empty command)."""
    if not command:
        return 0, None
    _script, check = runner.prepare(command, user, group)
    if check is None:
        return 0, None
    return check.flags, check.flags


def check_check_scripts(config) -> CheckScriptsReport:
    """check_check_script_security() over a KeepalivedConfig."""
    report = CheckScriptsReport()
    # a virtual server without real servers is dropped ("has no real servers - ignoring")
    servers = [vs for vs in getattr(config, "virtual_server", ())
               if getattr(vs, "target", None) is not None and vs.real_server]
    if not servers:
        return report
    runner = ScriptRunner.from_config(config, log_fn=report.messages.append)
    flags = 0
    for vs in servers:
        for rs in vs.real_server:
            for misc in getattr(rs, "misc_check", ()):
                if not misc.misc_path:
                    continue
                user = misc.user or ()
                got, checked = _flags(runner, misc.misc_path, user[0] if user else None,
                                      user[1] if len(user) > 1 else None)
                flags |= got
                if checked is None:
                    report.disabled.append(misc.misc_path)
                elif checked & SC_INHIBIT:
                    report.messages.append(f"Disabling misc script {misc.misc_path} due to insecure")
                    report.disabled.append(misc.misc_path)
                elif checked & SC_NOTFOUND:
                    report.messages.append(f"Disabling misc script {misc.misc_path} since not found/accessible")
                    report.disabled.append(misc.misc_path)
                elif not checked & (SC_EXECUTABLE | SC_SYSTEM):
                    report.disabled.append(misc.misc_path)
    for vs in servers:
        for ns in (vs.quorum_up, vs.quorum_down):
            if ns is not None:
                flags |= _flags(runner, ns.command, ns.user, ns.group)[0]
        for rs in vs.real_server:
            for ns in (rs.notify_up, rs.notify_down):
                if ns is not None:
                    flags |= _flags(runner, ns.command, ns.user, ns.group)[0]
    gd = getattr(config, "global_defs", None)
    if gd is not None:
        for ns in (gd.notify_fifo_script, gd.lvs_notify_fifo_script):
            if ns is not None:
                flags |= _flags(runner, ns.command, ns.user, ns.group)[0]
    report.flags = flags
    if not runner.script_security and flags & SC_ISSCRIPT:
        report.violation = CHECK_SECURITY_VIOLATION + (INSECURE_SUFFIX if flags & SC_INSECURE else "")
    return report
