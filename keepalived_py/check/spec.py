"""From the typed configuration to what the check child runs (pure: no I/O).

keepalived 2.2.7 fills in what a checker leaves unset at the end of reading the
configuration (keepalived/check/check_data.c validate_check_config):
- real server from virtual server: alpha, inhibit_on_failure, retry, connect_timeout,
  delay_loop, warmup, delay_before_retry, weight;
- checker from real server: alpha; retry (else the kind's default: 1, MISC_CHECK 0,
  DNS_CHECK 3); connect_timeout; delay_loop; warmup (else delay_loop); delay_before_retry
  (else the kind's default: 1 s, HTTP_GET/SSL_GET 3 s, DNS_CHECK delay_loop);
- a real server's port: a NAT real server without one takes the virtual server's; for
  DR/TUN an address service's port overrides it and a fwmark service has none;
- a checker connects to connect_ip (else the real server's address) and connect_port (else
  the real server's port).
The names in log lines are keepalived's FMT_VS ("[192.0.2.1]:tcp:80", "FWM 7",
"[group]:0") and FMT_RS ("[192.0.2.10]:tcp:80").
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Any

from keepalived_py.check.hysteresis import Kind, Policy
from keepalived_py.check.quorum import RsConfig, VsConfig

_KIND_OF = {
    "TCP_CHECK": Kind.TCP, "HTTP_GET": Kind.HTTP, "SSL_GET": Kind.SSL, "SMTP_CHECK": Kind.SMTP,
    "DNS_CHECK": Kind.DNS, "UDP_CHECK": Kind.UDP, "PING_CHECK": Kind.PING, "MISC_CHECK": Kind.MISC,
    "FILE_CHECK": Kind.FILE, "BFD_CHECK": Kind.BFD,
}
_DEFAULT_RETRY = {Kind.MISC: 0, Kind.DNS: 3}


def success_message(url) -> str:
    """How keepalived names a success on an HTTP url ("<msg> success to <rs> url(<path>)")."""
    if url.regex:
        return "Regex match"
    if url.digest:
        return "MD5 digest"
    return "HTTP status code"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a checker connects (kinds.base.Target without the resources). `vhosts`: the HTTP
    Host for each url after inheritance (url, checker, real server, virtual server)."""

    address: str
    port: int | None
    timeout: float
    bindto: str | None = None
    bind_port: int | None = None
    bind_if: str | None = None
    fwmark: int | None = None
    vhosts: tuple[str | None, ...] = ()
    script_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class CheckerSpec:
    """One checker to run: `id` (vs key, rs key, position), its policy, endpoint and the config
    model the probe reads. FILE_CHECK: `file_path` is the tracked file."""

    id: tuple
    vs_key: Hashable
    rs_key: Hashable
    kind: Kind
    policy: Policy
    endpoint: Endpoint
    params: Any
    file_path: str | None = None


def proto_name(vs) -> str:
    if vs.fwmark is not None:
        return "none"
    return (vs.protocol or "UDP").lower()


def vs_label(vs) -> str:
    """keepalived's FMT_VS."""
    if vs.group is not None:
        return f"[{vs.group}]:0"
    if vs.fwmark is not None:
        return f"FWM {vs.fwmark}"
    return f"[{vs.address}]:{proto_name(vs)}:{vs.port or 0}"


def rs_port(vs, rs) -> int:
    """The port keepalived gives a real server (0: none)."""
    method = vs.rs_setting(rs, "lvs_method").method
    port = rs.port or 0
    if vs.group is not None:
        return port
    if method == "NAT":
        return port or (0 if vs.fwmark is not None else vs.port or 0)
    if vs.fwmark is not None:
        return 0
    return vs.port or 0


def rs_key(vs, rs) -> tuple[str, int]:
    """How the pool and the IPVS plan name a real server of `vs`: (address text, port)."""
    return (str(rs.address), rs_port(vs, rs))


def rs_label(vs, rs) -> str:
    """keepalived's FMT_RS."""
    return f"[{rs.address}]:{proto_name(vs)}:{rs_port(vs, rs)}"


def vs_key(vs) -> tuple:
    return vs.key


def _first(*values):
    return next((v for v in values if v is not None), None)


def _policy(kind: Kind, checker, vs, rs, rs_lbl: str, vs_lbl: str, log_all: bool) -> Policy:
    rs_delay_loop = _first(rs.delay_loop, vs.delay_loop)
    delay_loop = _first(getattr(checker, "delay_loop", None), rs_delay_loop)
    retry = _first(getattr(checker, "retry", None), rs.retry, vs.retry, _DEFAULT_RETRY.get(kind, 1))
    warmup = _first(getattr(checker, "warmup", None), rs.warmup, vs.warmup, delay_loop)
    default_dbr = 3.0 if kind in (Kind.HTTP, Kind.SSL) else delay_loop if kind is Kind.DNS else 1.0
    dbr = _first(getattr(checker, "delay_before_retry", None), rs.delay_before_retry, vs.delay_before_retry,
                 default_dbr)
    alpha = _first(getattr(checker, "alpha", None), rs.alpha, vs.alpha, False)
    extra: dict[str, Any] = {}
    if kind in (Kind.HTTP, Kind.SSL):
        extra["url_paths"] = tuple(u.path or "/" for u in checker.url)
        extra["url_success_msgs"] = tuple(success_message(u) for u in checker.url)
        extra["url_vhosts"] = tuple(u.virtualhost for u in checker.url)
        extra["fast_recovery"] = bool(checker.fast_recovery)
    if kind is Kind.MISC:
        extra["misc_dynamic"] = bool(checker.misc_dynamic)
        extra["misc_name"] = (checker.misc_path or "").split()[0] if checker.misc_path else ""
    return Policy(kind=kind, delay_loop=delay_loop, retry=retry, delay_before_retry=dbr, warmup=warmup,
                  alpha=bool(alpha) if kind is not Kind.FILE else False,
                  log_all_failures=bool(getattr(checker, "log_all_failures", False)) or log_all,
                  rs_label=rs_lbl, vs_label=vs_lbl, iweight=_first(rs.weight, vs.weight), **extra)


def _endpoint(kind: Kind, checker, vs, rs, conn=None) -> Endpoint:
    conn = conn or checker
    port = _first(getattr(conn, "connect_port", None), rs_port(vs, rs) or None)
    address = _first(getattr(conn, "connect_ip", None), rs.address)
    timeout = _first(getattr(conn, "connect_timeout", None), rs.connect_timeout, vs.connect_timeout)
    vhosts: tuple[str | None, ...] = ()
    if kind in (Kind.HTTP, Kind.SSL):
        vhosts = tuple(_first(u.virtualhost, checker.virtualhost, rs.virtualhost, vs.virtualhost)
                       for u in checker.url)
    script_timeout = None
    if kind is Kind.MISC:
        script_timeout = float(checker.misc_timeout) if checker.misc_timeout else vs.delay_loop
    return Endpoint(address=str(address) if address is not None else "", port=port, timeout=timeout,
                    bindto=str(conn.bindto) if getattr(conn, "bindto", None) is not None else None,
                    bind_port=getattr(conn, "bind_port", None), bind_if=getattr(conn, "bind_if", None),
                    fwmark=getattr(conn, "fwmark", None), vhosts=vhosts, script_timeout=script_timeout)


_SMTP_SHARED = ("alpha", "retry", "delay_loop", "delay_before_retry", "warmup", "log_all_failures")


def _smtp_shared_timing(checker):
    """keepalived 2.2.7 stores retry / delay_before_retry / warmup / delay_loop / alpha /
    log_all_failures written inside a SMTP_CHECK `host {}` on the SMTP_CHECK itself (only the
    connection keywords are the host's), and each host's checker copies it: so the last
    one written, in file order, holds for the check and all its hosts."""
    changes = {}
    for name in _SMTP_SHARED:
        best: tuple[tuple[int, int], Any] | None = None
        for block in (checker, *getattr(checker, "host", ())):
            value = getattr(block, name, None)
            pos = (block.kw_pos or {}).get(name)
            where = (pos.line, pos.column) if pos is not None else (0, 0)
            if value is not None and (best is None or where >= best[0]):
                best = (where, value)
        if best is not None and best[1] != getattr(checker, name, None):
            changes[name] = best[1]
    return replace(checker, **changes) if changes else checker


def _smtp_alert_default(global_defs) -> bool | None:
    if global_defs is None:
        return None
    if global_defs.smtp_alert_checker is not None:
        return global_defs.smtp_alert_checker
    return global_defs.smtp_alert


def build(config) -> tuple[list[VsConfig], list[CheckerSpec]]:
    """The pool's virtual servers and every checker to run, from a KeepalivedConfig. A real
    server's checkers are in configuration order (a BFD_CHECK runs on a known bfd_instance, once per real server)."""
    gd = getattr(config, "global_defs", None)
    log_all = bool(gd and gd.checker_log_all_failures)
    alert_default = _smtp_alert_default(gd)
    track_files = {t.name: t for t in getattr(config, "vrrp_track_file", ())}
    # check_data->track_bfds: the bfd_instances reporting to the checker process
    bfds = {b.name for b in getattr(config, "bfd_instance", ()) if b.checker or not b.vrrp}
    servers: list[VsConfig] = []
    checkers: list[CheckerSpec] = []
    for vs in config.virtual_server:
        vkey = vs_key(vs)
        vlabel = vs_label(vs)
        rs_cfgs: list[RsConfig] = []
        for rs in vs.real_server:
            if rs.address is None:
                continue
            rkey = rs_key(vs, rs)
            rlabel = rs_label(vs, rs)
            ids: list[tuple] = []
            monitored: set[str] = set()
            for n, chk in enumerate(rs.checkers):
                kind = _KIND_OF.get(chk.block_keyword)
                if kind is None:
                    continue
                if kind is Kind.BFD:   # a known instance, once per real server (check_bfd.c)
                    if chk.name not in bfds or chk.name in monitored:
                        continue
                    monitored.add(chk.name)
                if kind is Kind.SMTP:
                    chk = _smtp_shared_timing(chk)
                conns = [None] + list(getattr(chk, "host", ()) if kind is Kind.SMTP else ())
                for m, conn in enumerate(conns):
                    cid = (vkey, rkey, n, m)
                    policy = _policy(kind, chk, vs, rs, rlabel, vlabel, log_all)
                    file_path = None
                    if kind is Kind.FILE:
                        tf = track_files.get(chk.track_file)
                        if tf is None or tf.file is None:
                            continue
                        weight = chk.weight
                        w, rev = (weight.weight, weight.reverse) if weight is not None else tf.weight
                        policy = Policy(kind=kind, rs_label=rlabel, vs_label=vlabel, file_weight=w,
                                        file_reverse=rev, iweight=policy.iweight)
                        file_path = tf.file
                    checkers.append(CheckerSpec(cid, vkey, rkey, kind, policy, _endpoint(kind, chk, vs, rs, conn),
                                                chk, file_path))
                    ids.append(cid)
            inhibit = vs.rs_setting(rs, "inhibit_on_failure")
            rs_alert = _first(rs.smtp_alert, alert_default, True)
            rs_cfgs.append(RsConfig(rkey, rlabel, _first(rs.weight, vs.weight), bool(inhibit), bool(rs_alert),
                                    tuple(ids)))
        sorry = None
        if vs.sorry_server is not None:
            s = vs.sorry_server
            sport = s.port or 0
            method = (vs.sorry_server_lvs_method or vs.forwarding).method
            if vs.group is None and method != "NAT":   # a NAT sorry server keeps its port, or none
                sport = 0 if vs.fwmark is not None else vs.port or 0
            sorry = RsConfig((str(s.address), sport), f"[{s.address}]:{proto_name(vs)}:{sport}", 1,
                             bool(vs.sorry_server_inhibit))
        servers.append(VsConfig(vkey, vlabel, tuple(rs_cfgs), vs.quorum, vs.hysteresis, vs.omega,
                                bool(_first(vs.smtp_alert, alert_default, False)), sorry))
    return servers, checkers
