"""keepalived_check.data's "Health checkers" section: keepalived 2.2.7's dump_checkers_queue()
(check_api.c dump_checker / dump_connection_opts) and each kind's dump function, from the
scheduler's specs (the settings after keepalived's inheritance) and states.

One block a checker, in configuration order:

     [192.0.2.10]:tcp:80 -> [192.0.2.11]:tcp:8080
       Enabled = yes
       ...
       Keepalive method = TCP_CHECK

Times are keepalived's: microseconds for the checker's own ("Delay loop = 5000000 us"),
seconds with six places for the connection timeout. Not shown, as we do not keep them: a
connection's "Last errno", MISC_CHECK's "Last ran" time and a regex's JIT stack.
"""

from __future__ import annotations

from typing import Any

from keepalived_py.check.hysteresis import Kind
from keepalived_py.config.model.checkers import hex_bytes

HTTP_STATUS_CODE_MIN, HTTP_STATUS_CODE_MAX = 100, 599
#: check_api.c / check_http.c / check_dns.c default_delay_before_retry (0: the delay loop)
_DEFAULT_DBR_US = {Kind.HTTP: 3_000_000, Kind.SSL: 3_000_000, Kind.DNS: 0}
#: pcre2 option names in keepalived's regex_options[] order
_REGEX_OPTIONS = ("allow_empty_class", "alt_bsux", "auto_callout", "caseless", "dollar_endonly", "dotall",
                  "dupnames", "extended", "firstline", "match_unset_backref", "multiline", "never_ucp",
                  "never_utf", "no_auto_capture", "no_auto_possess", "no_dotstar_anchor", "no_start_optimize",
                  "ucp", "ungreedy", "utf", "never_backslash_c", "alt_circumflex", "alt_verbnames",
                  "use_offset_limit", "extended_more", "literal")


def _us(seconds: float) -> int:
    return round(seconds * 1_000_000)


def _pair(address: str, port: int | None) -> str:
    """inet_sockaddrtopair()."""
    return f"[{address}]:{port or 0}"


def status_ranges(url) -> list[str]:
    """dump_url()'s "HTTP Status Code(s)" lines: runs of accepted codes, 100-599."""
    out: list[str] = []
    start = None
    for code in range(HTTP_STATUS_CODE_MIN, HTTP_STATUS_CODE_MAX + 2):
        ok = code <= HTTP_STATUS_CODE_MAX and url.accepts(code)
        if ok and start is None:
            start = code
        elif not ok and start is not None:
            out.append(f"       {start}" if code - 1 == start else f"       {start}-{code - 1}")
            start = None
    return out


def _url_lines(url, regex_refs: dict[tuple, int]) -> list[str]:
    lines = [f"   Checked url = {url.path}"]
    if url.digest:
        lines.append(f"     digest = {url.digest.lower()}")
    lines.append("     HTTP Status Code(s)")
    lines += status_ranges(url)
    if url.virtualhost:
        lines.append(f"     Virtual host = {url.virtualhost}")
    if url.regex:
        lines.append(f'     Regex = "{url.regex}"')
        if url.regex_no_match:
            lines.append("     Regex no match")
        lo, hi = url.regex_min_offset, url.regex_max_offset
        if lo or hi is not None:
            lines.append(f"     Regex min offset = {lo or 0}, max_offset = {hi}" if hi is not None
                         else f"     Regex min offset = {lo or 0}")
        names = set(url.regex_options)
        lines.append("     Regex options:" + "".join(f" {o}" for o in _REGEX_OPTIONS if o in names))
        lines.append(f"     Regex ref count = {regex_refs.get(_regex_key(url), 1)}")
    return lines


def _regex_key(url) -> tuple:
    return (url.regex, tuple(sorted(url.regex_options)))


def _kind_lines(spec, state, script) -> list[str]:
    p = spec.params
    kind = spec.kind
    if kind is Kind.TCP:
        return ["   Keepalive method = TCP_CHECK"]
    if kind is Kind.PING:
        return ["   Keepalive method = PING_CHECK"]
    if kind in (Kind.HTTP, Kind.SSL):
        proto = p.http_protocol or "1.0"
        lines = [f"   Keepalive method = {'HTTP' if kind is Kind.HTTP else 'SSL'}_GET, http protocol {proto}"]
        if p.virtualhost:
            lines.append(f"   Virtualhost = {p.virtualhost}")
        lines.append(f"   Enable SNI {'' if p.enable_sni else 'un'}set")
        lines.append(f"   Fast recovery {'' if p.fast_recovery else 'un'}set")
        refs: dict[tuple, int] = {}
        for u in p.url:
            if u.regex:
                refs[_regex_key(u)] = refs.get(_regex_key(u), 0) + 1
        for u in p.url:
            lines += _url_lines(u, refs)
        if state is not None and state.failed_url is not None and state.failed_url < len(p.url):
            lines.append(f"   Failed URL = {p.url[state.failed_url].path}")
        return lines
    if kind is Kind.SMTP:
        from keepalived_py.check.kinds.smtp import DEFAULT_HELO
        return ["   Keepalive method = SMTP_CHECK", f"   helo = {p.helo_name or DEFAULT_HELO}"]
    if kind is Kind.DNS:
        return ["   Keepalive method = DNS_CHECK", f"   Type = {p.type.upper()}", f"   Name = {p.name}"]
    if kind is Kind.UDP:
        lines = ["   Keepalive method = UDP_CHECK"]
        lines.append(f"   Payload len = {len(hex_bytes(p.payload, False)[0])}" if p.payload
                     else "   Payload specified = no")
        lines.append(f"   Require reply = {'no' if p.require_reply is None else 'yes'}")
        if p.require_reply is not None:
            data = hex_bytes(p.require_reply, True)[0] if p.require_reply else b""
            lines += [f"     Min reply length = {p.min_reply_length}", f"     Max reply length = {p.max_reply_length}",
                      f"     Reply data len = {len(data)}"]
            if data:
                lines.append(f"     Reply data mask = {'yes' if 'x' in p.require_reply.lower() else 'no'}")
        return lines
    if kind is Kind.MISC:
        timeout = int(spec.endpoint.script_timeout or 0)
        lines = ["   Keepalive method = MISC_CHECK",
                 f"   script = {script.display if script is not None else p.misc_path}",
                 f"   timeout = {timeout}", f"   dynamic = {'YES' if p.misc_dynamic else 'NO'}",
                 f"   uid:gid = {getattr(script, 'uid', 0)}:{getattr(script, 'gid', 0)}"]
        lines.append(f"   Last status = {state.last_exit if state is not None else 0}")
        return lines
    if kind is Kind.FILE:
        return ["   Keepalive method = FILE_CHECK", f"     Tracked file = {p.track_file}", "     Reloaded = No"]
    if kind is Kind.BFD:
        return ["   Keepalive method = BFD_CHECK", f"   Name = {getattr(p, 'name', '')}",
                f"   Alpha is {'ON' if spec.policy.alpha else 'OFF'}"]
    return [f"   Keepalive method = {kind.value}"]


def _one(spec, state, enabled: bool, script) -> list[str]:
    pol = spec.policy
    kind = spec.kind
    lines = [f" {pol.vs_label} -> {pol.rs_label}",
             f"   Enabled = {'yes' if enabled else 'no'}",
             f"   Up = {'yes' if state is None or state.is_up else 'no'}",
             f"   Has run = {'yes' if state is not None and state.has_run else 'no'}",
             f"   Current weight = {state.cur_weight if state is not None else 0}"]
    if kind is not Kind.FILE:
        lines += [f"   Alpha = {'yes' if pol.alpha else 'no'}",
                  f"   Delay loop = {_us(pol.delay_loop)} us",
                  f"   Warmup = {_us(pol.warmup)} us",
                  f"   Retries = {pol.retry}"]
        if pol.retry:
            lines += [f"   Delay before retry = {_us(pol.delay_before_retry)} us",
                      f"   Retries iterations = {state.retry_it if state is not None else pol.retry}"]
        lines.append(f"   Default delay before retry = {_DEFAULT_DBR_US.get(kind, 1_000_000)} us")
    lines.append(f"   Log all failures = {'yes' if pol.log_all_failures else 'no'}")
    if kind not in (Kind.MISC, Kind.FILE, Kind.BFD):
        ep = spec.endpoint
        lines += ["   Connection", f"     Dest = {_pair(ep.address, ep.port)}"]
        if ep.bindto or ep.bind_port:
            any_addr = "::" if ":" in ep.address else "0.0.0.0"
            lines.append(f"     Bind to = {_pair(ep.bindto or any_addr, ep.bind_port)}")
        if ep.bind_if:
            lines.append(f"     Bind i/f = {ep.bind_if}")
        if ep.fwmark:
            lines.append(f"     Mark = {ep.fwmark}")
        lines.append(f"     Timeout = {ep.timeout:f}")
    return lines + _kind_lines(spec, state, script)


def checker_lines(scheduler: Any) -> list[str]:
    """The section, or nothing when there is no checker (keepalived omits its header then)."""
    specs = list(scheduler.specs.values())
    if not specs:
        return []
    suspended = getattr(scheduler, "_suspended", set())
    scripts = getattr(scheduler, "_scripts", {})
    lines = ["------< Health checkers >------"]
    for spec in specs:
        lines += _one(spec, scheduler.states.get(spec.id), spec.vs_key not in suspended, scripts.get(spec.id))
    return lines
