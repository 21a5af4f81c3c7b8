"""vrrp_script hysteresis: keepalived's counter against an independent model."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from keepalived_py.track.script_state import InitState, ScriptState

counts = st.integers(1, 6)
runs = st.lists(st.booleans(), max_size=60)


def model(rise: int, fall: int, init_fail: bool, results: list[bool]) -> list[bool | None]:
    """Flip after `rise` consecutive successes / `fall` consecutive failures; the first
    result decides at once unless init_fail (then down from the start)."""
    status: bool | None = False if init_fail else None
    streak = 0
    out: list[bool | None] = []
    for ok in results:
        report = None
        if status is None:
            status = report = ok
            streak = 0
        elif ok != status:
            streak += 1
            if streak >= (rise if ok else fall):
                status = report = ok
                streak = 0
        else:
            streak = 0
        out.append(report)
    return out


@given(counts, counts, st.booleans(), runs)
def test_matches_model(rise, fall, init_fail, results):
    s = ScriptState.new(rise, fall, init_fail)
    assert s.initial_report == (False if init_fail else None)
    reports = []
    for ok in results:
        s, report = s.record(ok)
        reports.append(report)
        assert 0 <= s.result <= rise + fall - 1
        assert s.init_state == InitState.DONE
    assert reports == model(rise, fall, init_fail, results)


@given(counts, counts, st.booleans(), runs)
def test_reports_alternate_and_match_status(rise, fall, init_fail, results):
    s = ScriptState.new(rise, fall, init_fail)
    last = s.initial_report
    for ok in results:
        s, report = s.record(ok)
        if report is not None:
            assert report != last
            last = report
        assert s.ok == last


@given(counts, counts, st.booleans(), runs, counts, counts)
def test_reload_keeps_status(rise, fall, init_fail, results, rise2, fall2):
    s = ScriptState.new(rise, fall, init_fail)
    for ok in results:
        s, _ = s.record(ok)
    t = s.reloaded(rise2, fall2)
    assert (t.rise, t.fall) == (rise2, fall2)
    assert 0 <= t.result <= rise2 + fall2 - 1
    if s.init_state == InitState.INIT:
        assert t.ok is None
    else:
        assert t.ok == s.ok


@given(counts, counts)
def test_first_result_always_reported(rise, fall):
    for ok in (True, False):
        _, report = ScriptState.new(rise, fall).record(ok)
        assert report is ok
        _, report = ScriptState.new(rise, fall, reload=True).record(ok)
        assert report is ok


def test_examples():
    # rise 2 fall 3 from keepalived.conf(5): needs 2 successes up, 3 failures down
    s = ScriptState.new(2, 3)
    s, r = s.record(True)
    assert r is True and s.result == 4
    for expect in (None, None, False):
        s, r = s.record(False)
        assert r is expect
    assert s.result == 0
    s, r = s.record(True)
    assert r is None and s.result == 1
    s, r = s.record(True)
    assert r is True
    # init_fail: down, the first failure is not reported again
    s = ScriptState.new(1, 1, init_fail=True)
    s, r = s.record(False)
    assert r is None
    s, r = s.record(True)
    assert r is True


def test_reload_rescales():
    # clear_diff_script: result 3 of rise 2 fall 3 (up, one failure seen) -> rise 4 fall 4: 5
    s = ScriptState(2, 3, 3, InitState.DONE)
    assert s.reloaded(4, 4).result == 5
    s = ScriptState(2, 3, 4, InitState.DONE)
    assert s.reloaded(4, 4).result == 7
    s = ScriptState(3, 1, 2, InitState.DONE)  # down, 2 successes seen
    assert s.reloaded(2, 1).result == 1
    assert s.reloaded(5, 1).result == 4
    assert ScriptState(3, 1, 0, InitState.DONE).reloaded(2, 2).result == 0
