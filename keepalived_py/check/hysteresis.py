"""One health checker's rise/fall arithmetic, as keepalived 2.2.7 does it (pure, no I/O).

`initial()` gives a checker's state at start-up, `first_delay()` when it first runs,
`on_result()` what one probe's result does: the next state, how long until the next probe,
a verdict for the real server when the checker goes up or down, and keepalived's log lines.
Time is never read here: delays are returned and the scheduler adds them to its `now`.

What keepalived does (keepalived/check/check_data.c, check_api.c and each check_*.c):
- a checker starts up (`is_up`) unless `alpha`; in either mode `retry_it` starts at `retry`,
  so the very first failure is final ("one failure is enough initially"); SMTP_CHECK resets
  retry_it at every regular run, so its first failure is retried;
- the first run waits BOOTSTRAP_DELAY (1 s) plus warmup x random() / RAND_MAX; warmup
  defaults to delay_loop;
- a failure is retried `retry` times, `delay_before_retry` apart, before the checker is
  declared down; after a success or a final failure the next run is `delay_loop` later;
- the kinds differ in what happens to failures once the checker is down: TCP_CHECK keeps
  counting retries (dbr apart, then one delay_loop), SMTP_CHECK retries at every run,
  UDP/PING/DNS/MISC just wait delay_loop, HTTP_GET/SSL_GET re-check the failed url every
  max(delay_before_retry, delay_loop);
- HTTP_GET/SSL_GET check one url per run (delay_loop apart): the checker is up once every
  url succeeded in turn; `fast_recovery` runs again at once while nothing has failed;
- MISC_CHECK runs are timed from the script's start; with misc_dynamic an exit status
  2..255 is success with weight status - 2 (as an offset from the configured weight);
- FILE_CHECK has no runs: a new value in the tracked file moves it (file_update()).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from keepalived_py.check.result import Result, Status

#: keepalived's BOOTSTRAP_DELAY: every checker's first run is at least this late (seconds)
BOOTSTRAP_DELAY = 1.0
#: IPVS_WEIGHT_FAULT: a tracked file value at or below this puts the checker down
WEIGHT_FAULT = -(2**31)
INT_MAX = 2**31 - 1


class Kind(enum.Enum):
    TCP = "TCP_CHECK"
    HTTP = "HTTP_GET"
    SSL = "SSL_GET"
    SMTP = "SMTP_CHECK"
    DNS = "DNS_CHECK"
    UDP = "UDP_CHECK"
    PING = "PING_CHECK"
    MISC = "MISC_CHECK"
    FILE = "FILE_CHECK"
    BFD = "BFD_CHECK"


#: kinds without runs, moved by events: a tracked file's value, the bfd child's reports
EVENT_DRIVEN = frozenset({Kind.FILE, Kind.BFD})


@dataclass(frozen=True, slots=True)
class Policy:
    """A checker's effective settings (after keepalived's inheritance, see spec.py) and the
    names its log lines use: `rs_label` is FMT_CHK ("[192.0.2.1]:tcp:80"), `vs_label`
    FMT_VS. Times in seconds."""

    kind: Kind
    delay_loop: float = 60.0
    retry: int = 1
    delay_before_retry: float = 1.0
    warmup: float = 60.0
    alpha: bool = False
    log_all_failures: bool = False
    rs_label: str = ""
    vs_label: str = ""
    #: HTTP_GET / SSL_GET: the urls' paths, and what a success on each is called
    url_paths: tuple[str, ...] = ()
    url_success_msgs: tuple[str, ...] = ()
    #: each url's own virtualhost (the "content_length does not match" line names it)
    url_vhosts: tuple[str | None, ...] = ()
    fast_recovery: bool = False
    #: MISC_CHECK
    misc_dynamic: bool = False
    misc_name: str = ""
    #: the real server's configured weight (misc_dynamic weights are relative to it)
    iweight: int = 1
    #: FILE_CHECK weight (0: any non-zero value is a fault) and reverse
    file_weight: int = 0
    file_reverse: bool = False


@dataclass(frozen=True, slots=True)
class CheckerState:
    is_up: bool
    has_run: bool = False
    retry_it: int = 0
    #: HTTP: the url the next run checks, and the url that failed (None: none)
    url_it: int = 0
    failed_url: int | None = None
    #: this checker's contribution to the real server's weight (misc_dynamic, FILE_CHECK)
    cur_weight: int = 0
    #: HTTP: per url, the last Content-Length - received difference logged (0: none)
    len_mismatch: tuple[int, ...] = ()
    #: MISC_CHECK: the last exit status acted on
    last_exit: int = 0
    #: FILE_CHECK: the last value read
    file_value: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """The checker's view of its real server after this result (update_svr_checker_state's
    input): `up`, whether it was up before, and whether it had never run. `alert` is the
    smtp_alert text keepalived sends for this checker when the real server changes."""

    up: bool
    was_up: bool
    first: bool
    alert: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """What one result does. `delay`: seconds to the next run, counted from the result
    (from the run's start when `from_start`, MISC_CHECK). `weight`: the checker's new weight
    contribution when it changed; `weight_quiet`: keepalived changes it without its "Changing
    weight" line and kernel edit (a MISC_CHECK failure)."""

    state: CheckerState
    delay: float
    verdict: Verdict | None = None
    logs: tuple[str, ...] = ()
    weight: int | None = None
    weight_quiet: bool = False
    from_start: bool = False


def initial(policy: Policy) -> CheckerState:
    """The state after configuration (check_data.c): down in alpha mode, retry_it = retry
    (SMTP_CHECK's first run resets it to 0)."""
    return CheckerState(is_up=not policy.alpha, retry_it=0 if policy.kind is Kind.SMTP else policy.retry)


def first_delay(policy: Policy, rand: float) -> float:
    """register_checkers_thread(): BOOTSTRAP_DELAY + warmup x rand, rand in [0, 1] (injected,
    keepalived's random() / RAND_MAX)."""
    return BOOTSTRAP_DELAY + (policy.warmup * min(max(rand, 0.0), 1.0) if policy.warmup else 0.0)


def _retries(n: int) -> str:
    return f"{n} {'retry' if n == 1 else 'retries'}"


def on_result(policy: Policy, state: CheckerState, result: Result, *, log_all: bool = False) -> Step:
    """Apply one probe result. `log_all`: global_defs checker_log_all_failures."""
    log_all = log_all or policy.log_all_failures
    kind = policy.kind
    if kind is Kind.TCP:
        return _tcp(policy, state, result, log_all)
    if kind in (Kind.UDP, Kind.PING):
        return _udp_ping(policy, state, result, log_all)
    if kind is Kind.DNS:
        return _dns(policy, state, result, log_all)
    if kind is Kind.SMTP:
        return _smtp(policy, state, result, log_all)
    if kind in (Kind.HTTP, Kind.SSL):
        return _http(policy, state, result, log_all)
    if kind is Kind.MISC:
        return _misc(policy, state, result, log_all)
    raise ValueError(f"{kind.value} has no runs; use file_update()")


def steady(policy: Policy, state: CheckerState, result: Result) -> bool:
    """True when on_result() would change nothing: Step(state, delay_loop), no log, no verdict,
    no weight. Why: the scheduler's hot path (thousands of TCP_CHECK successes a second) skips
    the Step and its decisions then. Only for kinds whose success keeps nothing per run: an up
    checker that has run, with no retry counted, succeeding again."""
    return result.status is Status.OK and steady_state(policy, state)


def steady_state(policy: Policy, state: CheckerState) -> bool:
    """steady() without the result: true when a success in `state` would change nothing (the
    scheduler keeps this per checker until its state moves)."""
    kind = policy.kind   # `is`, not a set: an Enum's hash is Python code
    return (state.is_up and state.has_run and not state.retry_it
            and (kind is Kind.TCP or kind is Kind.UDP or kind is Kind.PING))


def _verdict(state: CheckerState, up: bool, alert: str | None) -> Verdict:
    return Verdict(up=up, was_up=state.is_up, first=not state.has_run, alert=alert)


def _settled(state: CheckerState) -> CheckerState:
    """retry_it = 0, has_run: the same object when nothing changes (the common case of an up
    checker succeeding again costs no allocation)."""
    if state.retry_it == 0 and state.has_run:
        return state
    return replace(state, retry_it=0, has_run=True)


def _moved(state: CheckerState, up: bool, **changes) -> CheckerState:
    return replace(state, is_up=up, has_run=True, **changes)


# --------------------------------------------------------------------------- TCP_CHECK
def _tcp(p: Policy, s: CheckerState, r: Result, log_all: bool) -> Step:
    """check_tcp.c tcp_check_thread() / tcp_epilog()."""
    logs: list[str] = []
    if not r.ok and s.is_up and log_all:
        word = "timeout" if r.status is Status.TIMEOUT else "failed"
        logs.append(f"TCP connection to {p.rs_label} {word}.")
    if r.ok or s.retry_it >= p.retry:
        verdict = None
        new = s
        if r.ok and (not s.is_up or not s.has_run):
            logs.append(f"TCP connection to {p.rs_label} success.")
            verdict = _verdict(s, True, "=> TCP CHECK succeed on service <=")
            new = _moved(s, True)
        elif not r.ok and (s.is_up or not s.has_run):
            if p.retry and s.has_run:
                logs.append(f"TCP_CHECK on service {p.rs_label} failed after {p.retry} retries.")
            else:
                logs.append(f"TCP_CHECK on service {p.rs_label} failed.")
            verdict = _verdict(s, False, "=> TCP CHECK failed on service <=")
            new = _moved(s, False)
        return Step(_settled(new), p.delay_loop, verdict, tuple(logs))
    return Step(replace(s, retry_it=s.retry_it + 1, has_run=True), p.delay_before_retry, None, tuple(logs))


# --------------------------------------------------------------------------- UDP_CHECK, PING_CHECK
def _udp_ping(p: Policy, s: CheckerState, r: Result, log_all: bool) -> Step:
    """check_udp.c udp_epilog(), check_ping.c icmp_epilog(): no retries once down."""
    udp = p.kind is Kind.UDP
    logs: list[str] = []
    if not r.ok and s.is_up and log_all:
        if udp:
            logs.append(f"UDP check to {p.rs_label} reply data mismatch." if r.detail == "mismatch"
                        else f"UDP connection to {p.rs_label} failed.")
        elif r.status is Status.TIMEOUT:
            logs.append(f"ICMP connection to address {p.rs_label} timeout.")
        else:
            logs.append(f"ICMP connection to {p.rs_label} of {p.vs_label} failed.")
    if r.ok or ((s.is_up or not s.has_run) and s.retry_it >= p.retry):
        verdict = None
        new = s
        if r.ok and (not s.is_up or not s.has_run):
            logs.append(f"{'UDP' if udp else 'ICMP'} connection to {p.rs_label} success.")
            verdict = _verdict(s, True, f"=> {'UDP' if udp else 'ICMP'} CHECK succeed on service <=")
            new = _moved(s, True)
        elif not r.ok:
            if udp:
                logs.append(f"UDP_CHECK on service {p.rs_label} failed after {p.retry} retries."
                            if p.retry and s.has_run else f"UDP_CHECK on service {p.rs_label} failed.")
            else:
                logs.append(f"ICMP CHECK on service {p.rs_label} of {p.vs_label} failed after {p.retry} retries."
                            if p.retry and s.has_run else f"ICMP CHECK on service {p.rs_label} failed.")
            verdict = _verdict(s, False, f"=> {'UDP' if udp else 'ICMP'} CHECK failed on service <=")
            new = _moved(s, False)
        return Step(_settled(new), p.delay_loop, verdict, tuple(logs))
    if s.is_up:
        return Step(replace(s, retry_it=s.retry_it + 1, has_run=True), p.delay_before_retry, None, tuple(logs))
    return Step(replace(s, has_run=True), p.delay_loop, None, tuple(logs))


# --------------------------------------------------------------------------- DNS_CHECK
def _dns(p: Policy, s: CheckerState, r: Result, log_all: bool) -> Step:
    """check_dns.c dns_final(): failures logged "DNS_CHECK ([..]) reason"; no success line."""
    if r.ok:
        verdict = None
        new = s
        if not s.is_up or not s.has_run:
            verdict = _verdict(s, True, "=> DNS_CHECK: succeed on service <=")
            new = _moved(s, True)
        return Step(replace(new, retry_it=0), p.delay_loop, verdict)
    logs: list[str] = []
    verdict = None
    new = s
    if s.is_up or not s.has_run:
        if log_all or s.retry_it >= p.retry:
            text = r.reason or "failed"
            if s.has_run and s.retry_it >= p.retry:
                text += f" after {p.retry} retries"
            logs.append(f"DNS_CHECK ({p.rs_label}) {text}")
        if s.retry_it < p.retry:
            return Step(replace(s, retry_it=s.retry_it + 1, has_run=True), p.delay_before_retry, None, tuple(logs))
        verdict = _verdict(s, False, "=> DNS_CHECK: failed on service <=")
        new = _moved(s, False)
    return Step(replace(new, retry_it=0), p.delay_loop, verdict, tuple(logs))


# --------------------------------------------------------------------------- SMTP_CHECK
def _smtp(p: Policy, s: CheckerState, r: Result, log_all: bool) -> Step:
    """check_smtp.c smtp_final(). Every regular run (smtp_start_check_thread) starts with
    retry_it = 0, retries do not: retry_it is 0 after a success, retry + 1 after a final
    failure until the next regular run (the checker dump shows it), which counts from 0."""
    if s.retry_it > p.retry:   # the regular run after a final failure
        s = replace(s, retry_it=0)
    if r.ok:
        logs: tuple[str, ...] = ()
        verdict = None
        new = s
        if not s.is_up or not s.has_run:
            logs = (f"Remote SMTP server {p.rs_label} succeed on service.",)
            verdict = _verdict(s, True, "=> CHECK succeed on service <=")
            new = _moved(s, True)
        return Step(replace(new, retry_it=0, has_run=True), p.delay_loop, verdict, logs)
    out: list[str] = []
    if (s.is_up or not s.has_run) and (log_all or s.retry_it >= p.retry):
        out.append(f"SMTP_CHECK {r.reason or 'failed'}")
    retry_it = s.retry_it + 1
    if retry_it <= p.retry:
        return Step(replace(s, retry_it=retry_it), p.delay_before_retry, None, tuple(out))
    verdict = None
    new = replace(s, retry_it=retry_it)
    if s.is_up or not s.has_run:
        reason = r.reason or ""
        verdict = _verdict(s, False, f"=> CHECK failed on service : {reason} <=" if reason
                           else "=> CHECK failed on service <=")
        new = _moved(new, False)
    return Step(new, p.delay_loop, verdict, tuple(out))


# --------------------------------------------------------------------------- HTTP_GET, SSL_GET
def _http(p: Policy, s: CheckerState, r: Result, log_all: bool) -> Step:
    """check_http.c http_handle_response() / timeout_epilog() / epilog()."""
    n_urls = max(len(p.url_paths), 1)
    logs: list[str] = []
    verdict = None
    s = _length_check(p, s, r, logs)
    if r.ok:
        url = s.url_it
        if not s.is_up:
            msg = p.url_success_msgs[url] if url < len(p.url_success_msgs) else "HTTP status code"
            path = p.url_paths[url] if url < len(p.url_paths) else "/"
            logs.append(f"{msg} success to {p.rs_label} url({path})")
        # epilog(REGISTER_CHECKER_NEW)
        nxt: int | None = url + 1 if url + 1 < n_urls else None
        new = replace(s, url_it=nxt if nxt is not None else 0, retry_it=0)
        if nxt is None and s.failed_url is None:
            if not s.is_up or not s.has_run:
                logs.append(f"Remote Web server {p.rs_label} succeed on service.")
                verdict = _verdict(s, True, "=> CHECK succeed on service <=")
                new = _moved(new, True)
            new = replace(new, url_it=0, retry_it=0)
        elif s.failed_url is not None:
            new = replace(new, failed_url=None, url_it=0, retry_it=0)
        if not new.has_run:
            new = replace(new, retry_it=p.retry)
        delay = p.delay_loop
    else:
        if s.is_up or not s.has_run:
            if log_all:
                logs.append(f"{r.reason or 'Connection failed'} server {p.rs_label}.")
            # timeout_epilog() marks the checker as run before epilog() looks at it: an
            # alpha checker's first failures are not reported, only remembered
            new = replace(s, has_run=True, retry_it=s.retry_it + 1)
            if new.retry_it > p.retry:
                if s.is_up:
                    logs.append(f"HTTP_CHECK on service {p.rs_label} failed after {new.retry_it - 1} retries."
                                if p.retry else f"HTTP_CHECK on service {p.rs_label} failed.")
                    verdict = Verdict(up=False, was_up=True, first=False,
                                      alert="=> CHECK failed on service : HTTP request failed <=")
                new = replace(new, is_up=False, failed_url=s.url_it)
        else:
            new = s  # already known dead: no retry
        if new.failed_url is not None:
            delay = max(p.delay_before_retry, p.delay_loop)
        else:
            delay = p.delay_before_retry
    if p.fast_recovery and (not new.has_run or (not new.is_up and new.failed_url is None)):
        delay = 0.0
    return Step(new, delay, verdict, tuple(logs))


def _length_check(p: Policy, s: CheckerState, r: Result, logs: list[str]) -> CheckerState:
    """http_handle_response(): a Content-Length that does not match the bytes received is
    logged the first time each difference is seen for a url."""
    url = s.url_it
    seen = s.len_mismatch or (0,) * max(len(p.url_paths), 1)
    if url >= len(seen):
        return s
    if r.length_mismatch is None:
        if r.ok and seen[url]:
            return replace(s, len_mismatch=seen[:url] + (0,) + seen[url + 1:])
        return s
    length, received = r.length_mismatch
    diff = length - received
    if diff == seen[url]:
        return s
    vhost = p.url_vhosts[url] if url < len(p.url_vhosts) and p.url_vhosts[url] else ""
    path = p.url_paths[url] if url < len(p.url_paths) else "/"
    logs.append(f"http_check for RS {p.rs_label} VS {p.vs_label} url {vhost}{path}: content_length ({length}) "
                f"does not match received bytes ({received})")
    return replace(s, len_mismatch=seen[:url] + (diff,) + seen[url + 1:])


# --------------------------------------------------------------------------- MISC_CHECK
def _misc(p: Policy, s: CheckerState, r: Result, log_all: bool) -> Step:
    """check_misc.c misc_check_child_thread()."""
    weight: int | None = None
    weight_quiet = False
    exit_type: str | None = None
    success = False
    reason: tuple[str, int] | None = None
    message_only = False
    new = s
    status = r.exit_status
    if status is not None:
        if status == 0 or (p.misc_dynamic and 2 <= status <= 255):
            if status != s.last_exit:
                weight = status - 2 - p.iweight if status else 0
                new = replace(new, cur_weight=weight, last_exit=status)
            if not s.is_up or not s.has_run:
                exit_type, success = "succeeded", True
            new = replace(new, retry_it=0)
        elif s.is_up or not s.has_run:
            exit_type, reason = "failed", ("exited with status", status)
            if s.retry_it < p.retry:
                new = replace(new, retry_it=s.retry_it + 1)
                if log_all:
                    message_only = True
                else:
                    exit_type = None
            else:
                new = replace(new, retry_it=0, cur_weight=0, last_exit=status)
                if s.cur_weight:
                    weight, weight_quiet = 0, True
    elif s.is_up or not s.has_run:  # killed by a signal, or timed out
        if r.status is Status.TIMEOUT:
            exit_type = "timed out"
        else:
            exit_type, reason = "failed", ("due to signal", r.signal or 0)
        if s.retry_it < p.retry:
            new = replace(new, retry_it=s.retry_it + 1)
            if log_all:
                message_only = True
            else:
                exit_type = None
        else:
            new = replace(new, retry_it=0)
    logs: list[str] = []
    verdict = None
    if exit_type is not None:
        message = ""
        if not success:
            if p.retry:
                if new.retry_it == 1:
                    message = f", will do {_retries(p.retry)}"
                elif new.retry_it > 1:
                    message = f" on retry {new.retry_it - 1}/{p.retry}"
                else:
                    message = f" after {_retries(p.retry)}"
            else:
                message = " with retry disabled"
        tail = f" ({reason[0]} {reason[1]})" if reason else ""
        logs.append(f"Misc check for [{p.rs_label} VS {p.vs_label}] by [{p.misc_name}] {exit_type}{message}{tail}.")
        if not message_only:
            verdict = _verdict(s, success, f"=> MISC CHECK {exit_type} on service <=")
            new = _moved(new, success)
            if not success and new.cur_weight:
                new = replace(new, cur_weight=0)
                weight, weight_quiet = 0, True
    delay = p.delay_before_retry if new.retry_it else p.delay_loop
    return Step(replace(new, has_run=True), delay, verdict, tuple(logs), weight, weight_quiet, from_start=True)


def misc_timeout(misc_timeout: float | None, vs_delay_loop: float) -> float:
    """A MISC_CHECK script's time limit: misc_timeout, else the virtual server's delay_loop."""
    return misc_timeout if misc_timeout else vs_delay_loop


# --------------------------------------------------------------------------- FILE_CHECK
def _weight_range(value: int) -> int:
    return max(min(value, INT_MAX), -(2**31))


def file_status(policy: Policy, value: int) -> int:
    """update_track_file_status(): what a file value means to this checker: WEIGHT_FAULT
    (down) or a weight offset."""
    mult = -1 if policy.file_reverse else 1
    if not policy.file_weight:
        return WEIGHT_FAULT if (value == 0) != (mult == 1) else 0
    return _weight_range(value * policy.file_weight * mult)


def file_initial(policy: Policy, value: int) -> CheckerState:
    """A FILE_CHECK at start-up (check_file.c add_rs_to_track_files, set_track_file_weights,
    set_track_file_checkers_down; keepalived 2.2.7's own arithmetic, reverse quirks and all):
    it has "run", is never alpha, and a non-zero value can put it down or weigh it."""
    mult = -1 if policy.file_reverse else 1
    up = True
    weight = 0
    if value:
        product = value * policy.file_weight * mult
        if policy.file_weight:
            weight = product
        if not policy.file_weight or product <= WEIGHT_FAULT:
            up = False
    return CheckerState(is_up=up, has_run=True, cur_weight=weight, file_value=value)


def file_update(policy: Policy, state: CheckerState, value: int) -> Step:
    """process_update_checker_track_file_status(): a new value in the tracked file."""
    if value == state.file_value:
        return Step(state, 0.0)
    mult = -1 if policy.file_reverse else 1
    if not policy.file_weight:
        previous = WEIGHT_FAULT if (state.file_value == 0) != (mult == 1) else 0
    else:
        previous = _weight_range(state.file_value * policy.file_weight * mult)
    new_status = file_status(policy, value)
    new = replace(state, file_value=value)
    if previous == new_status:
        return Step(new, 0.0)
    if new_status == WEIGHT_FAULT:
        verdict = Verdict(up=False, was_up=state.is_up, first=False)
        return Step(replace(new, is_up=False, cur_weight=0), 0.0, verdict, weight=0, weight_quiet=True)
    if previous == WEIGHT_FAULT:
        verdict = Verdict(up=True, was_up=state.is_up, first=False)
        return Step(replace(new, is_up=True, cur_weight=new_status), 0.0, verdict,
                    weight=new_status, weight_quiet=True)
    return Step(replace(new, cur_weight=new_status), 0.0, weight=new_status)
