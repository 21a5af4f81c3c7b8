"""Checks of global_defs and the other top-level non-VRRP/non-LVS blocks.

What keepalived 2.2.7 reports for them when reading the configuration (`-t`):
interfaces named by static addresses/routes/rules, linkbeat_interfaces and
interface_up_down_delays must exist unless dynamic_interfaces is set; static_ipaddress
entries without `dev` need the default interface; track_group references must resolve.
Checks that look at the host beyond its interfaces (users, files, DNS, /proc) run only when
the environment checks the host (`env.interfaces` is not None), as keepalived's do.
"""

from __future__ import annotations

import grp
import ipaddress
import os
import pwd
import shutil
import socket

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.addresses import (
    DEFAULT_INTERFACE,
    Route,
    Rule,
    VirtualAddress,
    interface_message,
    missing_interfaces,
)
from keepalived_py.config.model.global_defs import GlobalDefs
from keepalived_py.config.validate import keyword_pos
from keepalived_py.errors import SourcePos

GE = ConfigErr.GENERAL_ERROR
DEFAULT_SCRIPT_USER = "keepalived_script"
IGMP_LINK_LOCAL = "/proc/sys/net/ipv4/igmp_link_local_mcast_reports"


def validate(config, env) -> None:
    diags = env.diagnostics
    gd: GlobalDefs = config.global_defs or GlobalDefs()
    dynamic = bool(gd.dynamic_interfaces)
    host = env.interfaces is not None

    _track_groups(config, diags)
    if host and not dynamic:
        _static_interfaces(config, gd, env.interfaces, diags)
        for entry in config.linkbeat_interfaces:
            if entry.interface not in env.interfaces:
                diags.add(ConfigErr.FATAL, f"unknown interface {entry.interface} specified for linkbeat interface",
                          entry.pos)
        for delay in config.interface_up_down_delays:
            if delay.interface not in env.interfaces:
                diags.add(ConfigErr.FATAL, f"unknown interface {delay.interface} specified for up/down delay",
                          delay.pos)
    if host and config.global_defs is not None:
        _host_checks(gd, env)


def _before(first, second) -> bool:
    """Whether `first` was read before `second` (keepalived resolves track_group names as it reads)."""
    if first is None or second is None or first.file != second.file:
        return True
    return (first.line, first.column) < (second.line, second.column)


def _track_groups(config, diags) -> None:
    seen: set[str] = set()
    where: dict[str, object] = {}
    for group in config.track_group:
        if group.name in seen:
            diags.add(GE, f"track_group {group.name} already defined", group.pos)
            continue
        seen.add(group.name)
        where[group.name] = group.pos
    vrrp_names = {inst.name for inst in getattr(config, "vrrp_instance", ())}
    for group in config.track_group:
        for name in group.group:
            if name not in vrrp_names:
                diags.add(ConfigErr.OK, f"vrrp instance {name} specified in track group {group.name} doesn't "
                          "exist - ignoring", group.pos)
    for entry in (*config.static_ipaddress, *config.static_routes, *config.static_rules):
        if entry.track_group is not None:
            if entry.track_group not in seen or not _before(where[entry.track_group], entry.pos):
                diags.add(GE, f"track_group {entry.track_group} not found", entry.pos)
            elif entry.no_track:
                kind = {VirtualAddress: "address", Route: "route", Rule: "rule"}[type(entry)]
                diags.add(ConfigErr.OK, f"Static {kind} has both track_group and no_track set - not tracking",
                          entry.pos)


def _static_interfaces(config, gd: GlobalDefs, interfaces: frozenset[str], diags) -> None:
    default_if = gd.default_interface or DEFAULT_INTERFACE
    for addr in config.static_ipaddress:
        missing = missing_interfaces(addr, interfaces)
        for name in missing:
            diags.add(GE, interface_message(addr, name), addr.pos)
        if addr.dev is None and default_if not in interfaces:
            text = addr.address.with_prefixlen if addr.peer is None else str(addr.address.ip)
            diags.add(ConfigErr.FATAL, f"Static address {text} requires either an interface or default interface "
                      "must exist", addr.pos)
    for entry in (*config.static_routes, *config.static_rules):
        for name in missing_interfaces(entry, interfaces):
            diags.add(GE, interface_message(entry, name), entry.pos)
        if isinstance(entry, Route) and entry.vrf is not None and entry.vrf not in interfaces:
            diags.add(GE, f"VRF {entry.vrf} not found for route", entry.pos)


def _script_path(command: str) -> str | None:
    """The file keepalived would run for a script's command line (PATH search for a bare name)."""
    word = command.strip().split()[0] if command.strip() else ""
    if word.startswith("<"):
        return None
    if "/" not in word:
        return shutil.which(word)
    return word if os.path.exists(word) else None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def default_script_user_fails(gd: GlobalDefs) -> bool:
    """keepalived's get_default_script_user(): with enable_script_security and no script_user,
    scripts without their own user run as keepalived_script, which must exist."""
    return gd.enable_script_security and gd.script_user is None and not _user_exists(DEFAULT_SCRIPT_USER)


#: ValidationEnv.extra key: keepalived looks the default script user up once per run
_DEFAULT_USER_FAILED = "default_script_user_failed"


def default_user_failure(gd: GlobalDefs | None, env) -> tuple[bool, str | None]:
    """get_default_script_user() for a script with no user of its own: (whether keepalived
    drops the script, the message to report first). It fails with script security on, no
    script_user and no keepalived_script user; keepalived tries once per run and reports the
    failure that once, at the line it is reading (the caller's)."""
    if gd is None or env.interfaces is None or not default_script_user_fails(gd):
        return False, None
    if env.extra.get(_DEFAULT_USER_FAILED):
        return True, None
    env.extra[_DEFAULT_USER_FAILED] = True
    return True, f"Unable to set default user {DEFAULT_SCRIPT_USER} for script"


def first_default_user_use(gd: GlobalDefs | None, env, uses: list[SourcePos | None], report) -> bool:
    """Scripts with no user of their own at `uses` (where keepalived reads each: a notify
    keyword's line, a script block's '}'): whether keepalived drops them, reporting the
    failure at the first of them if it is the run's first (`report(message, pos)`)."""
    if not uses:
        return False
    drop, first = default_user_failure(gd, env)
    if first:
        known = [p for p in uses if p is not None]
        one_file = len({p.file for p in known}) == 1
        report(first, min(known, key=lambda p: p.line) if known and one_file else uses[0])
    return drop


#: global_defs scripts and fifos that take the default user: (keepalived's type word, keyword)
_GLOBAL_SCRIPT_USERS = (("startup", "startup_script"), ("shutdown", "shutdown_script"),
                        ("notify_fifo", "notify_fifo_script"), ("vrrp_notify_fifo", "vrrp_notify_fifo_script"),
                        ("lvs_notify_fifo", "lvs_notify_fifo_script"), ("notify_fifo", "notify_fifo"),
                        ("vrrp_notify_fifo", "vrrp_notify_fifo"), ("lvs_notify_fifo", "lvs_notify_fifo"))


def _default_script_user(gd: GlobalDefs, env) -> None:
    """The parent reads global_defs first: its scripts and fifos are the first to need the
    default user, each on its keyword's line, in file order."""
    diags = env.diagnostics
    users = [(what, keyword) for what, keyword in _GLOBAL_SCRIPT_USERS
             if getattr(gd, keyword) is not None and getattr(gd, keyword).user is None]
    users.sort(key=lambda item: _line(keyword_pos(gd, item[1])))
    drop = first_default_user_use(gd, env, [keyword_pos(gd, keyword) for _what, keyword in users],
                                  lambda message, pos: diags.add(GE, message, pos))
    if not drop:
        return
    for what, keyword in users:
        if what in ("startup", "shutdown"):
            diags.add(GE, f"Invalid {what} script", keyword_pos(gd, keyword))


def _line(pos: SourcePos | None) -> int:
    return pos.line if pos is not None else 0


def _host_checks(gd: GlobalDefs, env) -> None:
    diags = env.diagnostics
    pos = gd.pos
    if gd.disable_local_igmp and not os.access(IGMP_LINK_LOCAL, os.W_OK):
        diags.add(GE, f"kernel does not support {IGMP_LINK_LOCAL}", pos)
    if gd.script_user is not None:
        try:
            pwd.getpwnam(gd.script_user.user)
            if gd.script_user.group is not None:
                grp.getgrnam(gd.script_user.group)
        except KeyError:
            diags.add(GE, "Error setting global script uid/gid", pos)
    if gd.smtp_server is not None:
        host = gd.smtp_server.host
        try:
            ipaddress.ip_address(host)
        except ValueError:
            try:
                socket.getaddrinfo(host, gd.smtp_server.port)
            except (OSError, UnicodeError):
                diags.add(GE, f"Invalid smtp server {host} {gd.smtp_server.port}", pos)
    if gd.config_save_dir is not None:
        path = gd.config_save_dir
        if os.path.exists(path) and not os.path.isdir(path):
            diags.add(GE, f"config_save_dir {path} exists and is not a directory", pos)
        elif not os.path.exists(path) and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            diags.add(GE, f"Unable to create config_save_dir {path} (error 2 - No such file or directory)", pos)
    _default_script_user(gd, env)
    if not gd.enable_script_security:
        scripts = [s for s in (gd.startup_script, gd.shutdown_script) if s is not None]
        if any(_script_path(s.command) for s in scripts):
            diags.add(ConfigErr.SECURITY_ERROR, "SECURITY VIOLATION - start/shutdown scripts are being executed but "
                      "script_security not enabled.", pos)
