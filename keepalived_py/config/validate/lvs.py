"""keepalived's checks on virtual_server_group / virtual_server / real_server / checkers.

Follows what keepalived 2.2.7's checker process does with a parsed configuration, in its
order: the end-of-block handlers of the parser (checkers, real servers, virtual server
groups), link_vsg_to_vs() and validate_check_config(), then the script security check.
Messages are keepalived's; most are CONFIG_GENERAL_ERROR (so `-t` exits 5), a few are only
logged (ConfigErr.OK), as keepalived logs them without counting them as config errors.
What an end-of-block handler reports names the block's closing '}' line (`end_pos`), as
keepalived's current line is then that one; what a keyword's handler reports names the
keyword's line.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import shutil
from typing import TYPE_CHECKING, Any

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.checkers import HttpGet, MiscCheck, SmtpCheck
from keepalived_py.config.model.lvs import (
    DEFAULT_PERSISTENCE_TIMEOUT,
    DEFAULT_SCHEDULER,
    RealServer,
    VirtualServer,
    VirtualServerGroup,
    VsgRange,
)
from keepalived_py.config.validate import ValidationEnv, keyword_pos
from keepalived_py.config.validate.global_defs import first_default_user_use
from keepalived_py.config.values import split_command

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

GENERAL = ConfigErr.GENERAL_ERROR
#: the connection keywords that make SMTP_CHECK use its own connection beside its host blocks
_CONN_KEYWORDS = ("connect_ip", "connect_port", "bindto", "bind_port", "bind_if", "connect_timeout")
_PROTO = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp", None: "none"}


def _trio(address: Any, proto: str | None, port: int | None) -> str:
    return f"[{address}]:{_PROTO.get(proto, '?')}:{port or 0}"


class _Vs:
    """Working state of one virtual server while keepalived's checks adjust it."""

    def __init__(self, vs: VirtualServer):
        self.vs = vs
        self.proto = vs.protocol
        self.family = vs.address.version if vs.address is not None else None
        self.group_port = 0
        self.vsg: VirtualServerGroup | None = None
        self.rs: list[RealServer] = []
        self.sorry = vs.sorry_server

    def fmt(self) -> str:
        target = self.vs.target
        if target.group is not None:
            return f"[{target.group}]:{self.group_port}"
        if target.fwmark is not None:
            return f"FWM {target.fwmark}"
        return _trio(target.address, self.proto, target.port)

    def fmt_rs(self, rs: RealServer, port: int | None = None) -> str:
        return _trio(rs.address, self.proto, rs.port if port is None else port)


def validate(config: KeepalivedConfig, env: ValidationEnv) -> None:
    diags = env.diagnostics
    groups = _check_groups(config.virtual_server_group, diags)
    track_files = {t.name: t.pos for t in getattr(config, "vrrp_track_file", ())}
    # the checker process knows the bfd_instances that report to it (bfd_checker_end_handler),
    # the first of a name (bfd_checker_handler)
    bfds: dict[str, Any] = {}
    for b in getattr(config, "bfd_instance", ()):
        if b.name in bfds:
            diags.add(GENERAL, f"BFD {b.name} already specified", b.pos)
        elif b.notify_checker:
            bfds[b.name] = b.pos

    no_default_user = first_default_user_use(config.global_defs, env, _default_user_uses(config),
                                             lambda message, pos: diags.add(GENERAL, message, pos))
    states: list[_Vs] = []
    for vs in config.virtual_server:
        if vs.target is None:  # keepalived skipped the block
            continue
        states.append(_parse_time(vs, env, no_default_user, track_files, bfds))

    _link_groups(states, groups, diags)
    for state in states:
        if state.vs.target.group is not None and state.vsg is None:
            continue
        _validate_vs(state, diags)

    _script_security(config, diags)


def _default_user_uses(config: KeepalivedConfig) -> list:
    """Where the checker configuration needs the default script user: quorum_up/quorum_down
    and notify_up/notify_down without their own user (their keyword's line), MISC_CHECK
    without one (its '}')."""
    uses = []
    for vs in config.virtual_server:
        uses += [keyword_pos(vs, k) for k in ("quorum_up", "quorum_down")
                 if getattr(vs, k) is not None and getattr(vs, k).user is None]
        for rs in vs.real_server:  # plain attribute tests: this runs for every real server
            if rs.notify_up is not None and rs.notify_up.user is None:
                uses.append(keyword_pos(rs, "notify_up"))
            if rs.notify_down is not None and rs.notify_down.user is None:
                uses.append(keyword_pos(rs, "notify_down"))
            misc = rs.misc_check
            if len(misc) > 1:  # in the order of rs.checkers
                misc = [c for c in rs.checkers if isinstance(c, MiscCheck)]
            uses += [c.end_pos for c in misc if c.misc_path and not c.user]
    return uses


# --------------------------------------------------------------------------- parse time
def _check_groups(vsgs, diags) -> dict[str, VirtualServerGroup]:
    groups: dict[str, VirtualServerGroup] = {}
    for vsg in vsgs:
        if not vsg.entries:
            diags.add(GENERAL, f"virtual server group {vsg.name} has no entries - removing", vsg.end_pos)
            continue
        if vsg.have_ipv4 and vsg.have_ipv6 and vsg.fwmark_no_family:
            diags.add(GENERAL, f"virtual server group {vsg.name} cannot have IPv4, IPv6 and fwmark without family"
                               " - removing", vsg.end_pos)
            continue
        groups.setdefault(vsg.name, vsg)
    return groups


def _parse_time(vs: VirtualServer, env: ValidationEnv, no_default_user: bool, track_files, bfds) -> _Vs:
    diags = env.diagnostics
    state = _Vs(vs)
    if vs.ip_family is not None:
        family = 4 if vs.ip_family == "inet" else 6
        if state.family is not None and state.family != family:
            diags.add(GENERAL, f"Virtual server specified family {vs.ip_family} conflicts with server family",
                      keyword_pos(vs, "ip_family"))
        else:
            state.family = family
    granularity = vs.persistence_granularity
    if granularity is not None:
        family = state.family or (4 if "." in granularity else 6)
        if family == 6 and ("." in granularity or not 1 <= int(granularity) <= 128):
            where = keyword_pos(vs, "persistence_granularity")
            diags.add(ConfigErr.INVALID_NUMBER, f"invalid number '{granularity}'" if "." in granularity
                      else f"number '{granularity}' outside range [1, 128]", where)
            diags.add(GENERAL, f"Invalid IPv6 persistence_granularity specified - {granularity}", where)
        elif state.family is None:
            state.family = family
    if vs.sorry_server_inhibit and vs.sorry_server is None:
        diags.add(GENERAL, "Ignoring sorry_server inhibit used before or without sorry_server",
                  keyword_pos(vs, "sorry_server_inhibit"))
    if vs.sorry_server_lvs_method is not None and vs.sorry_server is None:
        diags.add(GENERAL, "sorry_server forwarding used without sorry_server", keyword_pos(vs, "sorry_server_lvs_method"))
    for flag in ("sh_port", "sh_fallback", "mh_port", "mh_fallback", "hashed"):
        if getattr(vs, flag) and vs.scheduler not in ("sh", "mh"):
            name = flag.replace("_", "-")
            diags.add(GENERAL, f"{name} only applies to sh scheduler - ignoring", keyword_pos(vs, name))

    for rs in vs.real_server:
        if rs.address is None:  # keepalived skipped the block
            continue
        _check_checkers(state, rs, env, no_default_user, track_files, bfds)
        method = rs.lvs_method or vs.lb_kind
        if method is not None and method.method == "TUN":
            state.rs.append(rs)
            continue
        if state.family is None:
            state.family = rs.address.version
        elif state.family != rs.address.version:
            diags.add(GENERAL, f"Address family of virtual server and real server {rs.address} don't match - "
                               "skipping real server.", rs.end_pos)
            continue
        state.rs.append(rs)

    sorry = vs.sorry_server
    if sorry is not None:
        method = vs.sorry_server_lvs_method or vs.lb_kind
        if method is None or method.method != "TUN":
            if state.family is None:
                state.family = sorry.address.version
            elif state.family != sorry.address.version:
                diags.add(GENERAL, f"Address family of virtual server and sorry server {sorry.address} don't match"
                                   " - skipping sorry server.", vs.end_pos)
                state.sorry = None
    return state


def _check_conn(checker, rs: RealServer, diags) -> bool:
    dst = checker.connect_ip if checker.connect_ip is not None else rs.address
    if checker.connect_ip is not None and checker.bindto is not None \
            and checker.connect_ip.version != checker.bindto.version:
        diags.add(GENERAL, f"bindto address {checker.bindto} does not match address family of connect_ip - skipping",
                  keyword_pos(checker, "bindto"))
    if isinstance(dst, ipaddress.IPv6Address) and dst.is_link_local and not checker.bind_if:
        diags.add(GENERAL, f"Checker link local address {dst} requires a bind_if", checker.end_pos)
        return False
    return True


def _check_checkers(state: _Vs, rs: RealServer, env: ValidationEnv, no_default_user: bool, track_files,
                    bfds) -> None:
    diags = env.diagnostics
    monitored: set[str] = set()
    for checker in rs.checkers:
        kind = checker.block_keyword
        if isinstance(checker, HttpGet):
            urls = 0
            for url in checker.url:
                if url.path is None:
                    diags.add(GENERAL, "HTTP/SSL_GET checker url has no path - ignoring", url.end_pos)
                    continue
                urls += 1
                if url.regex is None and (url.regex_options or url.regex_no_match or url.regex_min_offset
                                          or url.regex_max_offset or url.regex_stack):
                    diags.add(ConfigErr.OK, "regex parameters specified without regex", url.pos)
                elif url.regex_max_offset is not None and (url.regex_min_offset or 0) >= url.regex_max_offset + 1:
                    diags.add(ConfigErr.OK, f"regex min offset {url.regex_min_offset} > regex_max_offset "
                                            f"{url.regex_max_offset} - ignoring", url.pos)
            if not urls:
                diags.add(GENERAL, "HTTP/SSL_GET checker has no urls specified - ignoring", checker.end_pos)
                continue
            _check_conn(checker, rs, diags)
        elif isinstance(checker, SmtpCheck):
            for host in checker.host:  # each (deprecated) host block at its own '}'
                _check_conn(host, rs, diags)
            # smtp_check_end_handler: the checker's own connection, unless only hosts give one
            if not checker.host or any(getattr(checker, f) is not None for f in _CONN_KEYWORDS) or checker.fwmark:
                _check_conn(checker, rs, diags)
        elif isinstance(checker, MiscCheck):
            if checker.user == ():
                diags.add(GENERAL, f"No user specified for misc checker script '{checker.misc_path or ''}'", checker.pos)
            elif checker.user and not _user_exists(checker.user):
                diags.add(GENERAL, f"Failed to set uid/gid for misc checker script '{checker.misc_path or ''}' - "
                                   "removing", checker.pos)
                continue
            if checker.misc_path is None:
                diags.add(GENERAL, "No script path has been specified for MISC_CHECKER - skipping",
                          checker.end_pos)
            elif not checker.user and no_default_user:
                diags.add(GENERAL, f"Unable to set default user for misc script {_cmd_str(checker.misc_path)}"
                                   " - removing", checker.end_pos)
        elif kind == "FILE_CHECK":
            if checker.track_file is None:
                diags.add(GENERAL, "FILE_CHECK has no track_file specified - ignoring", checker.end_pos)
            elif not _defined_before(track_files, checker.track_file, checker.pos):
                diags.add(GENERAL, f"track_file {checker.track_file} not found", keyword_pos(checker, "track_file"))
                diags.add(GENERAL, "FILE_CHECK has no track_file specified - ignoring", checker.end_pos)
        elif kind == "BFD_CHECK":
            if checker.name is None:
                diags.add(GENERAL, f"({state.fmt_rs(rs)}) No name has been specified for BFD_CHECKER - skipping",
                          checker.end_pos)
            elif not _defined_before(bfds, checker.name, checker.pos):
                diags.add(GENERAL, f"({state.fmt_rs(rs)}) BFD_CHECK - BFD {checker.name} not configured",
                          keyword_pos(checker, "name"))
            elif checker.name in monitored:
                diags.add(GENERAL, f"({state.fmt_rs(rs)}) BFD_CHECK - RS already monitoring {checker.name}",
                          keyword_pos(checker, "name"))
            else:
                monitored.add(checker.name)
        elif kind == "UDP_CHECK":
            if _check_conn(checker, rs, diags) and checker.min_reply_length > checker.max_reply_length:
                diags.add(GENERAL, f"UDP_CHECK min_reply length {checker.min_reply_length} > max_reply_length "
                                   f"{checker.max_reply_length} - will always fail", checker.end_pos)
        else:
            _check_conn(checker, rs, diags)


def _cmd_str(command: str) -> str:
    """keepalived's cmd_str(): each word quoted, but a first word that is a redirection."""
    words = split_command(command)
    return " ".join(w if i == 0 and w[:1] in ("<", ">") else f"'{w}'" for i, w in enumerate(words))


def _user_exists(user: tuple[str, ...]) -> bool:
    """Whether the host knows the user (and group) a MISC_CHECK script should run as."""
    import grp
    import pwd

    try:
        pwd.getpwnam(user[0])
        if len(user) > 1:
            grp.getgrnam(user[1])
    except KeyError:
        return False
    return True


def _defined_before(defined: dict, name: str, pos) -> bool:
    """keepalived resolves these names while parsing: the block must come earlier in the file."""
    if name not in defined:
        return False
    where = defined[name]
    if where is None or pos is None or where.file != pos.file:
        return True
    return where.line < pos.line


# --------------------------------------------------------------------------- link_vsg_to_vs
# From here on keepalived has finished parsing: like its messages, ours carry no line.
def _link_groups(states: list[_Vs], groups: dict[str, VirtualServerGroup], diags) -> None:
    members: dict[str, int] = {}
    for state in states:
        name = state.vs.target.group
        if name is None:
            continue
        vsg = groups.get(name)
        if vsg is None:
            diags.add(ConfigErr.OK, f"Virtual server group {name} specified but not configured - ignoring virtual "
                                    f"server {state.fmt()}", None)
            continue
        af = state.family
        if vsg.have_ipv4 and vsg.have_ipv6 and af is not None:
            diags.add(ConfigErr.OK, f"{name}: virtual server group with IPv4 & IPv6 doesn't match virtual server "
                                    f"{state.fmt()} - ignoring", None)
            continue
        if (vsg.have_ipv4 and af == 6) or (vsg.have_ipv6 and af == 4):
            diags.add(ConfigErr.OK, f"{name}: address family doesn't match virtual server {state.fmt()} - ignoring",
                      None)
            continue
        if vsg.have_ipv4 != vsg.have_ipv6:
            state.family = 4 if vsg.have_ipv4 else 6
        state.vsg = vsg
    for state in states:
        if state.vsg is not None:
            name = state.vsg.name
            state.group_port = members.get(name, 0)
            members[name] = state.group_port + 1


# --------------------------------------------------------------------------- validate_check_config
def _validate_vs(state: _Vs, diags) -> None:
    vs = state.vs
    pos = None  # keepalived checks after parsing: its messages carry no line
    vsg = state.vsg
    fwmark = vs.target.fwmark
    if not state.rs:
        diags.add(GENERAL, f"Virtual server {state.fmt()} has no real servers - ignoring", pos)
        return
    if vs.ha_suspend and (fwmark is not None or (vsg is not None and vsg.fwmarks)):
        diags.add(GENERAL, f"Virtual server {state.fmt()}: cannot use ha_suspend with fwmarks - clearing ha_suspend",
                  pos)
    persistence = vs.persistence_timeout
    if (vsg is not None and vsg.ranges) or (vsg is None and fwmark is None):
        if state.proto is None:
            diags.add(GENERAL, f"Virtual server {state.fmt()}: no protocol set - defaulting to UDP", pos)
            state.proto = "UDP"
        if vs.ops and state.proto != "UDP":
            diags.add(GENERAL, f"Virtual server {state.fmt()}: one packet scheduling requires UDP - resetting", pos)
        if not persistence and vsg is None and fwmark is None and not vs.target.port:
            diags.add(GENERAL, f"Virtual server {state.fmt()}: zero port only valid for persistent services - "
                               "setting", pos)
            persistence = DEFAULT_PERSISTENCE_TIMEOUT
    if not persistence and vsg is not None and any(not r.port for r in vsg.ranges):
        diags.add(GENERAL, f"Virtual server {state.fmt()}: zero port only valid for persistent services - setting",
                  pos)
    if state.proto is not None and ((vsg is not None and not vsg.ranges and vsg.fwmarks)
                                    or (vsg is None and fwmark is not None)):
        diags.add(GENERAL, f"Warning: Virtual server {state.fmt()}: protocol specified for fwmark - protocol will be "
                           "ignored", pos)
        state.proto = None
    if vs.lb_algo is None:
        diags.add(GENERAL, f"Virtual server {state.fmt()}: no scheduler set, setting default '{DEFAULT_SCHEDULER}'",
                  pos)

    forwarding_set = vs.lb_kind is not None
    weight_sum = 0
    kept: list[tuple[RealServer, str]] = []
    seen: set[tuple] = set()  # keys (address, port): a set, so 1,000 real servers are not 500,000 comparisons
    for rs in state.rs:
        key = rs.key
        if key in seen:
            diags.add(GENERAL, f"VS {state.fmt()}: real server {state.fmt_rs(rs)} is duplicated - removing second rs",
                      None)
            continue
        seen.add(key)
        method = rs.lvs_method
        if method is None:
            if not forwarding_set:
                diags.add(GENERAL, f"Virtual server {state.fmt()}: no forwarding method set, setting default NAT", pos)
                forwarding_set = True
            method = vs.forwarding
        weight_sum += rs.weight if rs.weight is not None else vs.weight
        kept.append((rs, method.method))
        sorry = state.sorry
        if sorry is not None and (sorry.address, sorry.port or 0) == rs.key:
            rs_inhibit = rs.inhibit_on_failure if rs.inhibit_on_failure is not None else vs.inhibit_on_failure
            if bool(vs.sorry_server_inhibit) != bool(rs_inhibit):
                diags.add(GENERAL, f"Virtual server {state.fmt()}: real server {state.fmt_rs(rs)} matches sorry "
                                   f"server, but inhibit setting differs, {'sett' if rs_inhibit else 'clear'}ing on "
                                   "sorry server", None)
    sorry_method = None
    if state.sorry is not None:
        sorry_method = vs.sorry_server_lvs_method
        if sorry_method is None:
            if not forwarding_set:
                diags.add(GENERAL, f"Virtual server {state.fmt()}: no forwarding method set, setting default NAT", pos)
            sorry_method = vs.forwarding

    quorum = vs.quorum
    if quorum > weight_sum:
        diags.add(GENERAL, f"Warning - quorum {quorum} for {state.fmt()} exceeds total weight of real servers "
                           f"{weight_sum}, reducing quorum to {weight_sum}", pos)
        quorum = weight_sum
    if vs.hysteresis >= quorum:
        diags.add(GENERAL, f"Virtual server {state.fmt()}: hysteresis {vs.hysteresis} >= quorum {quorum}; setting "
                           f"hysteresis to {(quorum - 1) & 0xFFFFFFFF}", pos)

    _check_ports(state, kept, sorry_method, diags)


def _check_ports(state: _Vs, kept, sorry_method, diags) -> None:
    vs = state.vs
    vsg = state.vsg
    sorry = state.sorry
    sorry_port = sorry.port if sorry is not None else None
    sorry_nat = sorry_method is None or sorry_method.method == "NAT"
    if vsg is not None:
        if vsg.fwmarks:
            for rs, method in kept:
                if method != "NAT" and rs.port:
                    diags.add(GENERAL, f"WARNING - fwmark virtual server {state.fmt()}, real server "
                                       f"{state.fmt_rs(rs)} has port specified - port will be ignored", None)
            if sorry is not None and not sorry_nat and sorry_port:
                diags.add(GENERAL, f"WARNING - fwmark virtual server {state.fmt()}, sorry server has port specified"
                                   " - port will be ignored", None)
        for entry in vsg.ranges:
            for rs, method in kept:
                if method != "NAT" and rs.port and (entry.port or 0) != rs.port:
                    diags.add(GENERAL, f"virtual server {state.fmt()}:[{_fmt_vsge(entry)}] and real server "
                                       f"{state.fmt_rs(rs)} ports don't match", None)
            if sorry is not None and not sorry_nat and sorry_port and (entry.port or 0) != sorry_port:
                diags.add(GENERAL, f"WARNING - virtual server {state.fmt()}, sorry server has port specified - port "
                                   "will be ignored", None)
        return
    fwmark = vs.target.fwmark is not None
    vport = vs.target.port or 0
    for rs, method in kept:
        if method == "NAT":
            continue
        if fwmark:
            if rs.port:
                diags.add(GENERAL, f"WARNING - fwmark virtual server {state.fmt()}, real server {state.fmt_rs(rs)} has"
                                   " port specified - clearing", None)
        elif rs.port and rs.port != vport:
            diags.add(GENERAL, f"WARNING - virtual server {state.fmt()} and real server {state.fmt_rs(rs)} ports "
                               "don't match - resetting", None)
    if sorry is not None and not sorry_nat:
        if fwmark:
            if sorry_port:
                diags.add(GENERAL, f"WARNING - virtual server {state.fmt()}, sorry server has port specified - "
                                   "clearing", None)
        elif sorry_port and sorry_port != vport:
            diags.add(GENERAL, f"WARNING - virtual server {state.fmt()} and sorry server ports don't match - "
                               "resetting", None)


def _fmt_vsge(entry: VsgRange) -> str:
    if entry.start != entry.end:
        return f"{entry.start}-{entry.end},{entry.port or 0}"
    return f"{entry.start},{entry.port or 0}"


# --------------------------------------------------------------------------- script security
def _script_exists(command: str) -> bool:
    """Whether keepalived would find the script (and so count it as a script to secure)."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    if not words:
        return False
    path = words[0]
    if path.startswith("<"):
        return False
    if "/" not in path:
        return shutil.which(path) is not None
    return os.path.exists(path)


def _names_check_scripts(config: KeepalivedConfig) -> bool:
    """Whether check_check_scripts() has a script to look at: the scripts it checks (MISC_CHECK,
    quorum_up/down, notify_up/down of a virtual server with real servers, the notify FIFOs'
    scripts); with none its flags stay 0 and it reports nothing."""
    for vs in getattr(config, "virtual_server", ()):
        if getattr(vs, "target", None) is None or not vs.real_server:
            continue
        if vs.quorum_up is not None or vs.quorum_down is not None:
            return True
        for rs in vs.real_server:
            if rs.notify_up is not None or rs.notify_down is not None \
                    or any(misc.misc_path for misc in rs.misc_check):
                return True
    gd = getattr(config, "global_defs", None)
    return gd is not None and (gd.notify_fifo_script is not None or gd.lvs_notify_fifo_script is not None)


def _script_security(config: KeepalivedConfig, diags) -> None:
    """check_check_script_security(): scripts/check_check.py checks every check-process script
    as its user would run it (insecure paths, FIFO scripts, the insecure-scripts suffix)."""
    if not _names_check_scripts(config):
        # check_check_scripts() finds nothing to check then; skipping it keeps the script
        # runner (and asyncio, ~25 ms) out of a `-t` without check scripts
        return
    from keepalived_py.scripts.check_check import check_check_scripts

    violation = check_check_scripts(config).violation
    if violation:
        diags.add(ConfigErr.SECURITY_ERROR, violation)
