"""The lateness histogram: bounded buckets, count and sum, quantiles from buckets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepalived_py.vrrp.lateness import BOUNDS_S, LatenessHistogram


def test_buckets_are_inclusive_upper_bounds_and_overflow_counts():
    h = LatenessHistogram((0.001, 0.01))
    for v in (0.0, 0.001, 0.002, 0.01, 0.5, -1e-9):
        h.observe(v)
    v = h.view()
    assert v.counts == (3, 2, 1) and v.count == 6
    assert v.sum == pytest.approx(0.513)
    assert v.cumulative() == [(0.001, 3), (0.01, 5), (float("inf"), 6)]
    assert v.max == 0.5


def test_quantiles():
    h = LatenessHistogram()
    assert h.view().quantile(0.5) is None
    for _ in range(98):
        h.observe(0.00008)  # in (50 us, 100 us]
    h.observe(0.004)
    h.observe(2.0)  # above every bound
    v = h.view()
    assert 0.00005 <= v.quantile(0.5) <= 0.0001
    assert v.quantile(1.0) == 2.0
    assert 0.003 <= v.quantile(0.99) <= 0.005


@given(st.lists(st.floats(min_value=0.0, max_value=3.0), max_size=200))
def test_counts_add_up_and_memory_is_bounded(values):
    h = LatenessHistogram()
    for x in values:
        h.observe(x)
    v = h.view()
    assert sum(v.counts) == v.count == len(values)
    assert len(v.counts) == len(BOUNDS_S) + 1
    assert v.sum == pytest.approx(sum(values))
    if values:
        q = v.quantile(0.99)
        assert 0.0 <= q <= max(values) + 1e-12


def test_bad_bounds_refused():
    with pytest.raises(ValueError):
        LatenessHistogram((0.01, 0.001))
