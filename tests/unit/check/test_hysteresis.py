"""Checker rise/fall arithmetic against keepalived 2.2.7's check_*.c, driven by a fake clock."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepalived_py.check import hysteresis as h
from keepalived_py.check.result import Result, Status
from keepalived_py.clock import FakeClock

OK = Result(Status.OK)
FAIL = Result(Status.FAILED, "Connection failed")
TMO = Result(Status.TIMEOUT, "Timeout connecting")
RS = "[192.0.2.10]:tcp:80"
VS = "[192.0.2.1]:tcp:80"


def policy(kind=h.Kind.TCP, **kw) -> h.Policy:
    base = dict(kind=kind, delay_loop=10.0, retry=3, delay_before_retry=1.0, warmup=0.0,
                rs_label=RS, vs_label=VS)
    base.update(kw)
    return h.Policy(**base)


class Driver:
    """Runs a checker against scripted results the way the scheduler does: the next run is at
    now + delay; records run times, logs and verdicts."""

    def __init__(self, p: h.Policy, rand: float = 0.0) -> None:
        self.p = p
        self.clock = FakeClock(0.0)
        self.state = h.initial(p)
        self.next_at = h.first_delay(p, rand)
        self.runs: list[float] = []
        self.logs: list[str] = []
        self.verdicts: list[tuple[float, h.Verdict]] = []
        self.weights: list[tuple[int, bool]] = []

    def run(self, *results: Result) -> Driver:
        for r in results:
            self.clock.set(self.next_at)
            start = self.clock.now()
            self.runs.append(start)
            step = h.on_result(self.p, self.state, r)
            self.state = step.state
            self.logs += step.logs
            if step.verdict:
                self.verdicts.append((start, step.verdict))
            if step.weight is not None:
                self.weights.append((step.weight, step.weight_quiet))
            self.next_at = start + step.delay
        return self


def test_first_run_after_bootstrap_and_warmup():
    assert h.first_delay(policy(warmup=0.0), 0.7) == 1.0
    assert h.first_delay(policy(warmup=10.0), 0.0) == 1.0
    assert h.first_delay(policy(warmup=10.0), 0.5) == 6.0
    assert h.first_delay(policy(warmup=10.0), 1.0) == 11.0


def test_tcp_first_failure_is_final_without_alpha():
    d = Driver(policy()).run(FAIL)
    assert d.logs == [f"TCP_CHECK on service {RS} failed."]
    assert d.verdicts == [(1.0, h.Verdict(up=False, was_up=True, first=True,
                                          alert="=> TCP CHECK failed on service <="))]
    assert d.next_at == 11.0


def test_tcp_retries_then_down_then_recovers():
    d = Driver(policy()).run(OK)
    assert d.logs == [f"TCP connection to {RS} success."]  # first run logs success
    assert d.verdicts[0][1].up and d.verdicts[0][1].first
    d.logs.clear()
    d.run(OK)                    # t=11 nothing new
    d.run(FAIL, TMO, FAIL)       # t=21, 22, 23: retries 1..3, nothing logged
    assert d.runs[-3:] == [21.0, 22.0, 23.0] and d.logs == [] and len(d.verdicts) == 1
    d.run(FAIL)                  # t=24: fourth failure -> down
    assert d.logs == [f"TCP_CHECK on service {RS} failed after 3 retries."]
    assert d.verdicts[-1] == (24.0, h.Verdict(False, True, False, "=> TCP CHECK failed on service <="))
    assert d.next_at == 34.0
    d.run(OK)
    assert d.logs[-1] == f"TCP connection to {RS} success." and d.verdicts[-1][1].up


def test_tcp_down_keeps_counting_retries():
    d = Driver(policy()).run(FAIL)   # down at t=1
    d.run(FAIL, FAIL, FAIL, FAIL, FAIL)
    assert d.runs == [1.0, 11.0, 12.0, 13.0, 14.0, 24.0]
    assert len(d.verdicts) == 1


def test_tcp_log_all_failures_per_attempt():
    d = Driver(policy(log_all_failures=True)).run(OK, TMO, FAIL)
    assert d.logs[1:] == [f"TCP connection to {RS} timeout.", f"TCP connection to {RS} failed."]


def test_alpha_starts_down_and_first_success_brings_it_up():
    d = Driver(policy(alpha=True))
    assert not d.state.is_up
    d.run(OK)
    assert d.verdicts == [(1.0, h.Verdict(True, False, True, "=> TCP CHECK succeed on service <="))]


def test_alpha_first_failure_reports_down_once():
    d = Driver(policy(alpha=True)).run(FAIL, FAIL)
    assert d.verdicts == [(1.0, h.Verdict(False, False, True, "=> TCP CHECK failed on service <="))]


@pytest.mark.parametrize("kind,word", [(h.Kind.UDP, "UDP"), (h.Kind.PING, "ICMP")])
def test_udp_ping_no_retries_once_down(kind, word):
    d = Driver(policy(kind)).run(OK, FAIL, FAIL, FAIL, FAIL, FAIL, FAIL)
    assert d.runs == [1.0, 11.0, 12.0, 13.0, 14.0, 24.0, 34.0]
    if kind is h.Kind.UDP:
        assert d.logs[-1] == f"UDP_CHECK on service {RS} failed after 3 retries."
    else:
        assert d.logs[-1] == f"ICMP CHECK on service {RS} of {VS} failed after 3 retries."
    d.run(OK)
    assert d.logs[-1] == f"{word} connection to {RS} success."


def test_udp_mismatch_log():
    d = Driver(policy(h.Kind.UDP, log_all_failures=True)).run(OK, Result(Status.FAILED, "x", detail="mismatch"))
    assert d.logs[-1] == f"UDP check to {RS} reply data mismatch."


def test_dns_logs_only_final_failure_and_no_success():
    p = policy(h.Kind.DNS, retry=2)
    d = Driver(p).run(OK, Result(Status.TIMEOUT, "read timeout from socket"))
    assert d.logs == []
    d.run(Result(Status.FAILED, "read error occurred. (rcode = 2)"), FAIL)
    assert d.logs == [f"DNS_CHECK ({RS}) Connection failed after 2 retries"]
    assert [v.up for _, v in d.verdicts] == [True, False]
    d2 = Driver(p).run(Result(Status.TIMEOUT, "read timeout from socket"))
    assert d2.logs == [f"DNS_CHECK ({RS}) read timeout from socket"]


def test_smtp_first_failure_is_retried_and_retries_continue_when_down():
    p = policy(h.Kind.SMTP, retry=2)
    bad = Result(Status.FAILED, "Bad greeting banner from server [192.0.2.10]:25")
    d = Driver(p).run(bad, bad, bad)
    assert d.runs == [1.0, 2.0, 3.0]
    assert d.logs == ["SMTP_CHECK Bad greeting banner from server [192.0.2.10]:25"]
    assert d.verdicts[0][1].alert == "=> CHECK failed on service : Bad greeting banner from server [192.0.2.10]:25 <="
    d.run(bad, bad, bad, OK)
    assert d.runs[3:] == [13.0, 14.0, 15.0, 25.0]
    assert d.logs[-1] == f"Remote SMTP server {RS} succeed on service."


def http_policy(**kw):
    return policy(h.Kind.HTTP, url_paths=("/a", "/b"), url_success_msgs=("HTTP status code", "MD5 digest"), **kw)


def test_http_checks_one_url_per_run_and_is_up_after_all():
    d = Driver(http_policy(alpha=True)).run(OK)
    assert d.logs == [f"HTTP status code success to {RS} url(/a)"] and d.verdicts == []
    d.run(OK)
    assert d.logs[1:] == [f"MD5 digest success to {RS} url(/b)", f"Remote Web server {RS} succeed on service."]
    assert d.runs == [1.0, 11.0] and d.verdicts[0][1].up
    d.run(OK, OK)
    assert len(d.logs) == 3 and d.state.url_it == 0


def test_http_failure_retries_then_rechecks_failed_url_slowly():
    d = Driver(http_policy(delay_before_retry=3.0, retry=1)).run(OK, OK)   # up at t=11 (not alpha)
    d.run(FAIL)           # t=21 url /a fails: retry 1
    d.run(FAIL)           # t=24: down
    assert d.logs[-1] == f"HTTP_CHECK on service {RS} failed after 1 retries."
    assert d.state.failed_url == 0
    d.run(FAIL)           # t=34: still failed, no retry counting
    assert d.runs[2:] == [21.0, 24.0, 34.0]
    d.run(OK)             # t=44: the failed url is back: all urls again from the first
    assert d.state.url_it == 0 and d.state.failed_url is None and not d.state.is_up
    d.run(OK, OK)
    assert d.verdicts[-1][1].up and d.runs[-2:] == [54.0, 64.0]


def test_http_alpha_first_failure_is_not_reported():
    d = Driver(http_policy(alpha=True, retry=0)).run(FAIL)
    assert d.verdicts == [] and d.state.failed_url == 0 and d.logs == []


def test_http_fast_recovery_runs_again_at_once_while_nothing_failed():
    d = Driver(http_policy(alpha=True, fast_recovery=True)).run(OK)
    assert d.next_at == 1.0
    d.run(OK)
    assert d.state.is_up and d.next_at == 11.0


def misc(status=None, sig=None, timed_out=False):
    if timed_out:
        return Result(Status.TIMEOUT, signal=15)
    if sig is not None:
        return Result(Status.FAILED, signal=sig)
    return Result(Status.OK if status == 0 else Status.FAILED, exit_status=status)


def test_misc_retry_messages_with_log_all_failures():
    p = policy(h.Kind.MISC, retry=2, misc_name="/bin/check", log_all_failures=True)
    d = Driver(p).run(misc(0), misc(1), misc(1), misc(3))
    head = f"Misc check for [{RS} VS {VS}] by [/bin/check]"
    assert d.logs == [f"{head} succeeded.",
                      f"{head} failed, will do 2 retries (exited with status 1).",
                      f"{head} failed on retry 1/2 (exited with status 1).",
                      f"{head} failed after 2 retries (exited with status 3)."]
    assert [v.up for _, v in d.verdicts] == [True, False]


def test_misc_timeout_and_signal_and_retry_disabled():
    p = policy(h.Kind.MISC, retry=0, misc_name="/bin/check")
    d = Driver(p).run(misc(timed_out=True))
    assert d.logs == [f"Misc check for [{RS} VS {VS}] by [/bin/check] timed out with retry disabled."]
    d = Driver(p).run(misc(sig=9))
    assert d.logs == [f"Misc check for [{RS} VS {VS}] by [/bin/check] failed with retry disabled (due to signal 9)."]


def test_misc_dynamic_weights():
    p = policy(h.Kind.MISC, retry=0, misc_dynamic=True, iweight=5, misc_name="c")
    d = Driver(p).run(misc(12), misc(12), misc(2), misc(0), misc(12), misc(1))
    # exit 12 -> weight 10 = iweight + 5; exit 2 -> weight 0 = iweight - 5; exit 0 -> configured weight
    assert d.weights == [(5, False), (-5, False), (0, False), (5, False), (0, True)]
    assert d.state.cur_weight == 0 and not d.state.is_up


def test_misc_runs_are_timed_from_their_start():
    step = h.on_result(policy(h.Kind.MISC, retry=0), h.initial(policy(h.Kind.MISC)), misc(0))
    assert step.from_start and step.delay == 10.0


def file_policy(**kw):
    return policy(h.Kind.FILE, **kw)


def test_file_check_weight_zero_nonzero_is_fault():
    p = file_policy()
    assert h.file_initial(p, 0).is_up and not h.file_initial(p, 3).is_up
    s = h.file_initial(p, 0)
    step = h.file_update(p, s, 1)
    assert step.verdict == h.Verdict(False, True, False) and not step.state.is_up
    back = h.file_update(p, step.state, 0)
    assert back.verdict.up and back.state.is_up
    assert h.file_update(p, back.state, 0).verdict is None


def test_file_check_weighted():
    p = file_policy(file_weight=2)
    s = h.file_initial(p, 3)
    assert s.is_up and s.cur_weight == 6
    step = h.file_update(p, s, -4)
    assert step.weight == -8 and not step.weight_quiet and step.verdict is None
    fault = h.file_update(p, step.state, -(2**31))
    assert fault.verdict is not None and not fault.verdict.up and fault.weight == 0


def test_file_reverse():
    p = file_policy(file_reverse=True)
    s = h.file_initial(p, 0)          # keepalived 2.2.7 leaves it up at start (its quirk)
    step = h.file_update(p, replace(s, file_value=5), 0)
    assert step.verdict is not None and not step.verdict.up


@given(st.lists(st.booleans(), min_size=1, max_size=60), st.integers(0, 4), st.booleans(),
       st.sampled_from([h.Kind.TCP, h.Kind.UDP, h.Kind.PING, h.Kind.DNS, h.Kind.SMTP, h.Kind.MISC]))
def test_verdicts_alternate_and_follow_results(results, retry, alpha, kind):
    """Whatever the sequence: verdicts alternate up/down (after the first), a down verdict
    follows at most retry + 1 failures in a row, an up verdict comes with a success."""
    p = policy(kind, retry=retry, alpha=alpha)
    state = h.initial(p)
    last = None
    run_of_failures = 0
    for good in results:
        r = (misc(0) if good else misc(1)) if kind is h.Kind.MISC else (OK if good else FAIL)
        step = h.on_result(p, state, r)
        run_of_failures = 0 if good else run_of_failures + 1
        if step.verdict:
            v = step.verdict
            assert v.up == good
            assert run_of_failures <= retry + 1
            if last is not None:
                assert v.up != last.up
            last = v
        state = step.state
        assert step.delay in (p.delay_loop, p.delay_before_retry)
    # a checker never stays up after retry + 1 failures in a row
    if run_of_failures > retry + 1 and kind is not h.Kind.SMTP:
        assert not state.is_up


@given(st.lists(st.booleans(), min_size=1, max_size=80), st.integers(0, 3), st.booleans(), st.integers(1, 3))
def test_http_up_needs_every_url_and_verdicts_alternate(results, retry, alpha, n_urls):
    p = policy(h.Kind.HTTP, retry=retry, alpha=alpha, url_paths=tuple(f"/{i}" for i in range(n_urls)),
               url_success_msgs=("HTTP status code",) * n_urls)
    state = h.initial(p)
    goods = 0     # successes since the checker last went down (keepalived re-checks a failed
    last = None   # url, then the urls in turn; failures of a down checker are not counted)
    for good in results:
        step = h.on_result(p, state, OK if good else FAIL)
        goods += good
        if step.verdict:
            assert step.verdict.up == good
            if good:
                assert goods >= n_urls or (state.is_up and not state.has_run)
            else:
                goods = 0
            if last is not None:
                assert last.up != step.verdict.up
            last = step.verdict
        state = step.state
        assert 0 <= state.url_it < n_urls
        assert step.delay in (p.delay_loop, p.delay_before_retry, max(p.delay_loop, p.delay_before_retry))


def test_http_content_length_mismatch_logged_once_per_difference():
    p = policy(h.Kind.HTTP, url_paths=("/a",), url_success_msgs=("HTTP status code",), url_vhosts=("www.example",))
    short = Result(Status.OK, length_mismatch=(100, 40))
    d = Driver(p).run(short, short, Result(Status.OK, length_mismatch=(100, 41)), OK, short)
    line = f"http_check for RS {RS} VS {VS} url www.example/a: content_length (100) does not match received bytes"
    assert [x for x in d.logs if x.startswith("http_check")] == [f"{line} (40)", f"{line} (41)", f"{line} (40)"]
