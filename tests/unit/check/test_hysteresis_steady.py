"""hysteresis.steady(), the scheduler's shortcut for a success that changes nothing, against
on_result() itself: whenever steady() says yes, on_result() returns the same state, delay_loop,
no log, no verdict and no weight, for every kind, policy, state and result hypothesis makes.
And it does say yes for the common case (a settled up TCP_CHECK succeeding), or the
shortcut would never run."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from keepalived_py.check import hysteresis as h
from keepalived_py.check.result import Result, Status

RUN_KINDS = [k for k in h.Kind if k not in h.EVENT_DRIVEN]

policies = st.builds(
    h.Policy,
    kind=st.sampled_from(RUN_KINDS),
    delay_loop=st.sampled_from([0.5, 1.0, 60.0]),
    retry=st.integers(0, 3),
    delay_before_retry=st.sampled_from([0.0, 1.0, 3.0]),
    alpha=st.booleans(),
    log_all_failures=st.booleans(),
    rs_label=st.just("[192.0.2.10]:tcp:80"),
    vs_label=st.just("[192.0.2.1]:tcp:80"),
    url_paths=st.sampled_from([(), ("/",), ("/a", "/b")]),
    fast_recovery=st.booleans(),
    misc_dynamic=st.booleans(),
)
states = st.builds(
    h.CheckerState,
    is_up=st.booleans(),
    has_run=st.booleans(),
    retry_it=st.integers(0, 4),
    url_it=st.integers(0, 1),
    failed_url=st.sampled_from([None, 0]),
    cur_weight=st.integers(-2, 2),
)
results = st.builds(
    Result,
    status=st.sampled_from(list(Status)),
    reason=st.sampled_from(["", "connect failed: Connection refused"]),
    exit_status=st.sampled_from([None, 0, 1, 3]),
    detail=st.sampled_from(["", "connect"]),
)


@settings(max_examples=1000)
@given(policies, states, results, st.booleans())
def test_steady_means_on_result_changes_nothing(policy, state, result, log_all):
    if not h.steady(policy, state, result):
        return
    step = h.on_result(policy, state, result, log_all=log_all)
    assert step.state == state
    assert step.delay == policy.delay_loop and not step.from_start
    assert step.logs == () and step.verdict is None and step.weight is None


def test_a_settled_tcp_check_succeeding_is_steady_and_nothing_else_is():
    p = h.Policy(kind=h.Kind.TCP, delay_loop=1.0, retry=2)
    settled = h.CheckerState(is_up=True, has_run=True)
    ok = Result(Status.OK, "connected")
    assert h.steady(p, settled, ok)
    assert not h.steady(p, settled, Result(Status.FAILED, "connect failed: Connection refused"))
    assert not h.steady(p, h.CheckerState(is_up=True, has_run=True, retry_it=1), ok)   # a retry pending
    assert not h.steady(p, h.CheckerState(is_up=True, has_run=False, retry_it=2), ok)  # never ran: logs "success"
    assert not h.steady(p, h.CheckerState(is_up=False, has_run=True), ok)              # a rise
    assert not h.steady(h.Policy(kind=h.Kind.HTTP), settled, ok)                       # urls move on


@settings(max_examples=500)
@given(policies, states, results)
def test_steady_state_is_steady_for_a_success(policy, state, result):
    """The scheduler keeps steady_state() per checker and tests the result's status itself."""
    assert h.steady(policy, state, result) == (result.status is Status.OK and h.steady_state(policy, state))
