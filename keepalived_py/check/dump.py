"""keepalived_check.data (SIGUSR1): the LVS Topology section as keepalived 2.2.7's
check_data.c dump_check_data() writes it (dump_vsg / dump_vs / dump_rs), from the running
configuration and the pool's state; then the Health checkers section (check_api.c
dump_checkers_queue(): each checker's shared settings, its connection and its kind's own block,
the dump_* functions of check_tcp.c, check_http.c, check_smtp.c, check_dns.c, check_udp.c,
check_ping.c, check_misc.c, check_file.c, check_bfd.c). Not shown, as we do not keep them: a
connection's "Last errno", MISC_CHECK's "Last ran" time, a regex's JIT stack.

A view only: the state is the pool's (alive, effective weight, failed checkers, in the
table) and the configuration's after keepalived's inheritance (delay loop, connection
timeout, alpha, inhibit, smtp_alert). Times are keepalived's format_decimal() with six
places ("5.000000").
"""

from __future__ import annotations

from typing import Any

from keepalived_py.check import spec as specmod
from keepalived_py.check.dump_checkers import checker_lines
from keepalived_py.lvs import plan
from keepalived_py.lvs.table import (
    SVC_F_ONEPACKET,
    SVC_F_SCHED1,
    SVC_F_SCHED2,
    SVC_F_SCHED3,
    SVC_F_SCHED_MH_FALLBACK,
    SVC_F_SCHED_MH_PORT,
    SVC_F_SCHED_SH_FALLBACK,
    SVC_F_SCHED_SH_PORT,
)

#: IP_VS_VERSION_CODE of the kernel headers keepalived 2.2.7 is built with
LVS_VERSION = "1.2.1"


def _dec(seconds: float) -> str:
    micro = round(seconds * 1_000_000)
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"


def _first(*values):
    return next((v for v in values if v is not None), None)


def _fwd(prefix: str, fwd) -> str:
    method = fwd.method
    if method == "TUN":
        ttype = (fwd.tunnel_type or "ipip").upper()
        if ttype == "IPIP":
            return f"   {prefix}forwarding method = TUN, type = IPIP"
        csum = {"nocsum": ", no checksum", "csum": ", checksum", "remcsum": ", remote checksum"}.get(
            fwd.csum or "nocsum", "")
        if ttype == "GUE":
            return f"   forwarding method = TUN, type = GUE, port = {fwd.tun_port or 0}{csum}"
        return f"   forwarding method = TUN, type = GRE{csum}"
    return f"   {prefix}forwarding method = {method}"


def _sched_flags(vs, flags: int) -> list[str]:
    def en(bit: int) -> str:
        return "en" if flags & bit else "dis"
    sched = vs.scheduler
    if sched == "sh":
        return [f"   sh-port = {en(SVC_F_SCHED_SH_PORT)}abled", f"   sh-fallback = {en(SVC_F_SCHED_SH_FALLBACK)}abled"]
    if sched == "mh":
        return [f"   mh-port = {en(SVC_F_SCHED_MH_PORT)}abled", f"   mh-fallback = {en(SVC_F_SCHED_MH_FALLBACK)}abled"]
    return [f"   flag-1 = {en(SVC_F_SCHED1)}abled", f"   flag-2 = {en(SVC_F_SCHED2)}abled",
            f"   flag-3 = {en(SVC_F_SCHED3)}abled"]


def _script(label: str, ns, runner) -> str | None:
    if ns is None:
        return None
    try:
        uid, gid = runner.user_ids(ns.user, ns.group)
    except Exception:  # noqa: BLE001 - a dump never fails on a user lookup
        uid, gid = 0, 0
    return f"{label} = {ns.command}, uid:gid {uid}:{gid}"


def _vs_lines(runtime: Any, vs, resolved) -> list[str]:
    pool = runtime.pool
    pvs = pool._vs.get(specmod.vs_key(vs))
    lines = [" ------< Virtual server >------"]
    if vs.group is not None:
        lines.append(f" VS GROUP = {specmod.vs_label(vs)}")
    elif vs.fwmark is not None:
        lines.append(f" VS FWMARK = {vs.fwmark}")
    else:
        lines.append(f" VS VIP = {vs.address}, VPORT = {vs.port or 0}")
    if vs.virtualhost:
        lines.append(f"   VirtualHost = {vs.virtualhost}")
    family = resolved.family if resolved is not None else None
    lines.append(f"   Address family = {'inet' if family == 4 else 'inet6' if family == 6 else 'unknown'}")
    lines.append(f"   connection timeout = {_dec(vs.connect_timeout)}")
    lines.append(f"   delay_loop = {_dec(vs.delay_loop)}")
    lines.append(f"   lvs_sched = {vs.scheduler}")
    flags = resolved.flags if resolved is not None else 0
    lines.append(f"   Hashed = {'en' if vs.hashed else 'dis'}abled")
    lines += _sched_flags(vs, flags)
    onepacket = bool(flags & SVC_F_ONEPACKET)
    proto = vs.service_protocol
    lines.append(f"   One packet scheduling = {'en' if onepacket else 'dis'}abled"
                 f"{' (inactive due to not UDP)' if onepacket and proto != 'UDP' else ''}")
    if vs.persistence_timeout:
        lines.append(f"   persistence timeout = {vs.persistence_timeout}")
    if vs.persistence_granularity is not None:
        lines.append(f"   persistence granularity = {vs.persistence_granularity}")
    lines.append(f"   protocol = {proto if proto else 'none'}")
    lines.append(f"   alpha is {'ON' if vs.alpha else 'OFF'}")
    lines.append(f"   omega is {'ON' if vs.omega else 'OFF'}")
    if vs.retry is not None:
        lines.append(f"   Retry count = {vs.retry}")
    if vs.delay_before_retry is not None:
        lines.append(f"   Retry delay = {_dec(vs.delay_before_retry)}")
    if vs.warmup is not None:
        lines.append(f"   Warmup = {_dec(vs.warmup)}")
    lines.append(f"   Inhibit on failure is {'ON' if vs.inhibit_on_failure else 'OFF'}")
    q, h = (pvs.quorum, pvs.hysteresis) if pvs is not None else (vs.quorum, vs.hysteresis)
    lines.append(f"   quorum = {q}, hysteresis = {h}")
    for label, ns in (("Quorum up notify script", vs.quorum_up), ("Quorum down notify script", vs.quorum_down)):
        text = _script(label, ns, runtime.runner)
        if text:
            lines.append(f"   {text}")
    if vs.ha_suspend:
        lines.append("   Using HA suspend")
    lines.append(f"   Using smtp notification = {'yes' if pvs is not None and pvs.cfg.smtp_alert else 'no'}")
    lines.append(_fwd("default ", vs.forwarding))
    if vs.sorry_server is not None and pvs is not None and pvs.sorry is not None:
        lines.append(f"   sorry server = {pvs.sorry.cfg.label}")
        lines.append(_fwd("  ", vs.sorry_server_lvs_method or vs.forwarding))
        lines.append(f"     Inhibit on failure is {'ON' if vs.sorry_server_inhibit else 'OFF'}")
    lines.append("   alive = 1")
    lines.append(f"   quorum_state_up = {int(pvs.quorum_up) if pvs is not None else 0}")
    lines.append(f"   reloaded = {int(runtime.reloaded)}")
    for rs in vs.real_server:
        if rs.address is not None:
            lines += _rs_lines(runtime, vs, rs, pvs)
    return lines


def _rs_lines(runtime: Any, vs, rs, pvs) -> list[str]:
    prs = pvs.rs.get(specmod.rs_key(vs, rs)) if pvs is not None else None
    effective = prs.effective if prs is not None else _first(rs.weight, vs.weight)
    lines = ["   ------< Real server >------",
             f"   RIP = {rs.address}, RPORT = {specmod.rs_port(vs, rs)}, WEIGHT = {plan.real_weight(effective)} "
             f"EFF WEIGHT = {effective}",
             _fwd("", vs.rs_setting(rs, "lvs_method")),
             f"   Alpha is {'ON' if _first(rs.alpha, vs.alpha) else 'OFF'}",
             f"   connection timeout = {_dec(_first(rs.connect_timeout, vs.connect_timeout))}",
             f"   connection limit range = {rs.lthreshold or 0} -> {rs.uthreshold or 0}",
             f"   Delay loop = {_dec(_first(rs.delay_loop, vs.delay_loop))}"]
    retry = _first(rs.retry, vs.retry)
    if retry is not None:
        lines.append(f"   Retry count = {retry}")
    dbr = _first(rs.delay_before_retry, vs.delay_before_retry)
    if dbr is not None:
        lines.append(f"   Retry delay = {_dec(dbr)}")
    warmup = _first(rs.warmup, vs.warmup)
    if warmup is not None:
        lines.append(f"   Warmup = {_dec(warmup)}")
    lines.append(f"   Inhibit on failure is {'ON' if vs.rs_setting(rs, 'inhibit_on_failure') else 'OFF'}")
    for label, ns in (("RS up notify script", rs.notify_up), ("RS down notify script", rs.notify_down)):
        text = _script(label, ns, runtime.runner)
        if text:
            lines.append(f"     {text}")
    if rs.virtualhost:
        lines.append(f"    VirtualHost = '{rs.virtualhost}'")
    lines.append(f"   Using smtp notification = {'yes' if prs is not None and prs.cfg.smtp_alert else 'no'}")
    lines.append(f"   initial weight = {_first(rs.weight, vs.weight)}")
    lines.append(f"   effective weight = {effective}")
    # keepalived keeps the weight before a dynamic change here (0 until one); the pool does
    # not keep it, so a misc_dynamic / FILE_CHECK change is not shown
    lines.append("   previous effective_weight = 0")
    lines.append(f"   alive = {int(prs.alive) if prs is not None else 0}")
    lines.append(f"   num failed checkers = {len(prs.failed) if prs is not None else 0}")
    lines.append(f"   RS set = {int(prs.in_table) if prs is not None else 0}")
    lines.append(f"   reloaded = {int(runtime.reloaded)}")
    return lines


def data_text(runtime: Any) -> str:
    config = runtime.config
    if config is None or runtime.scheduler is None or not config.virtual_server:
        return ""
    resolved = {id(r.vs): r for r in plan.resolve_all(config)}
    lines = ["------< LVS Topology >------", f" System is compiled with LVS v{LVS_VERSION}"]
    for vs in config.virtual_server:
        lines += _vs_lines(runtime, vs, resolved.get(id(vs)))
    lines += checker_lines(runtime.scheduler)
    return "\n".join(lines) + "\n"

