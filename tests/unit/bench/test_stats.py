"""The bench's pure parts (conformance/bench/stats.py): summaries, percentiles, the VRRP
bounds the failover excess is measured against, and the markdown table."""

from __future__ import annotations

import math

import pytest

from conformance.bench.stats import (
    Metric,
    failover_excess,
    fmt,
    interval_deviations,
    master_down_interval,
    max_gap,
    percentile,
    ratio,
    skew_time,
    summarize,
    table,
    takeover_times,
)


def test_summarize_ignores_missing_and_nan():
    s = summarize([3.0, None, 1.0, float("nan"), 2.0, 10.0])  # type: ignore[list-item]
    assert (s.n, s.min, s.median, s.max) == (4, 1.0, 2.5, 10.0)
    assert summarize([]) is None
    assert summarize([float("inf")]) is None


def test_percentile_linear_between_ranks():
    vals = list(range(1, 101))  # 1..100
    assert percentile(vals, 0) == 1
    assert percentile(vals, 100) == 100
    assert percentile(vals, 50) == pytest.approx(50.5)
    assert percentile(vals, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_ratio():
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None and ratio(1.0, None) is None and ratio(1.0, 0) is None


def test_v2_bounds():
    # RFC 3768: skew (256 - prio) / 256 s, down interval 3 x advert + skew
    assert skew_time(100, 1.0, 2) == pytest.approx(156 / 256)
    assert master_down_interval(100, 1.0, 2) == pytest.approx(3 + 156 / 256)
    assert master_down_interval(255, 1.0, 2) == pytest.approx(3 + 1 / 256)


def test_v3_bounds_scale_with_the_advert_interval():
    # RFC 5798: skew ((256 - prio) x advert centiseconds / 256) cs
    assert skew_time(100, 0.1, 3) == pytest.approx(156 * 10 / 25600)
    assert master_down_interval(100, 0.1, 3) == pytest.approx(0.3 + 0.0609375)
    assert skew_time(100, 1.0, 3) == pytest.approx(skew_time(100, 1.0, 2))


def test_failover_excess_against_each_bound():
    ref = 1000.0
    # kill -9: bound is the backup's down interval after the master's last advert
    mdi = master_down_interval(100, 1.0, 2)
    assert failover_excess(ref, ref + mdi + 0.003, 100, 1.0, 2, graceful=False) == pytest.approx(0.003)
    # SIGTERM: bound is Skew_Time after the priority 0 advert
    skew = skew_time(100, 0.1, 3)
    assert failover_excess(ref, ref + skew + 0.0005, 100, 0.1, 3, graceful=True) == pytest.approx(0.0005)
    # acting early shows as a negative excess, not clamped
    assert failover_excess(ref, ref + skew - 0.01, 100, 0.1, 3, graceful=True) < 0


def test_takeover_times_picks_the_right_reference():
    # (ts, vrid, priority): master 150 every second, killed at 3.5; backup 100 from 7.2
    recs = [(0.0, 51, 150), (1.0, 51, 150), (2.0, 51, 150), (3.0, 51, 150), (7.2, 51, 100), (8.2, 51, 100),
            (3.0, 52, 150)]
    assert takeover_times(recs, 51, 3.5, False, 150, 100) == (3.0, 7.2)
    # graceful: the priority 0 advert at or just after the signal (clock slack 10 ms)
    recs2 = [(1.0, 51, 150), (2.0, 51, 150), (2.495, 51, 0), (3.1, 51, 100)]
    assert takeover_times(recs2, 51, 2.5, True, 150, 100) == (2.495, 3.1)
    # no priority 0 advert: nothing to measure from
    assert takeover_times(recs, 51, 3.5, True, 150, 100) == (None, None)
    # no takeover yet
    assert takeover_times(recs[:4], 51, 3.5, False, 150, 100) == (3.0, None)


def test_interval_deviations_and_gaps():
    devs = interval_deviations({1: [0.0, 1.001, 2.0], 2: [5.0, 6.5]}, 1.0)
    assert sorted(round(d, 6) for d in devs) == [0.001, 0.001, 0.5]
    assert interval_deviations({1: [3.0]}, 1.0) == []
    assert max_gap([3.0, 1.0, 2.5]) == 1.5
    assert max_gap([1.0]) is None


def test_fmt_three_significant_figures():
    assert fmt(1234.6) == "1,235"
    assert fmt(12.34) == "12.3"
    assert fmt(1.234) == "1.23"
    assert fmt(0.01234) == "0.012"
    assert fmt(None) == "-" and fmt(math.nan) == "-"


def test_metric_scales_and_table():
    m = Metric("CPU, 255 instances", "% of a core", 100.0)
    for v in (0.01, 0.02, 0.03):
        m.add("keepalived", v)
    m.add("keepalived-py", 0.04)
    m.add("keepalived-py", None)  # a failed sample is not a zero
    assert m.summary("keepalived").median == pytest.approx(2.0)
    out = table([m, Metric("never ran", "ms")])
    lines = out.splitlines()
    assert lines[0].startswith("| case | unit | keepalived min / median / max | keepalived-py")
    assert lines[2] == "| CPU, 255 instances | % of a core | 1.00 / **2.00** / 3.00 | 4.00 | 2.00x |"
    assert lines[3] == "| never ran | ms | failed / not run | failed / not run | - |"
    j = m.as_json(["keepalived-py", "keepalived"])
    assert j["ratio"] == pytest.approx(2.0)
    assert j["impls"]["keepalived"]["values"] == pytest.approx([1.0, 2.0, 3.0])
    assert j["impls"]["keepalived-py"]["min"] == pytest.approx(4.0)


def test_top_frames_from_collapsed_stacks():
    from conformance.bench.profile import render, top_frames

    text = "main;parse;lex 6\nmain;parse 2\nmain;build;parse 2\nbogus line\n"
    total, rows = top_frames(text, 3)
    assert total == 10
    assert rows[0] == (1.0, 0.0, "main")
    assert rows[1] == (1.0, 0.4, "parse")  # counted once per sample, also below build
    assert rows[2] == (0.6, 0.6, "lex")
    assert top_frames("") == (0, [])
    assert render(text).splitlines()[0] == "10 samples; inclusive / self share of the samples"
