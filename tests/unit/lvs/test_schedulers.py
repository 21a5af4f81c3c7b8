"""The fourteen IPVS schedulers, pure: sequences worked out by hand from the kernel's
ip_vs_*.c for scripted destination lists and counters, plus properties with hypothesis."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keepalived_py.lvs.table import SVC_F_SCHED1, SVC_F_SCHED2, DestKey
from keepalived_py.lvs.userspace.schedulers import (
    SCHEDULERS,
    Change,
    DestState,
    Request,
    fold,
    hash_32,
    hsiphash32,
    make,
)

A = ipaddress.ip_address


def dests(*weights: int) -> list[DestState]:
    """Destinations r0, r1, ... in the kernel's list order (index 0 = head)."""
    return [DestState(DestKey(A(f"192.0.2.{i + 1}"), 80), w) for i, w in enumerate(weights)]


def setup(name: str, ds: list[DestState], flags: int = 0):
    sched = make(name, flags)
    sched.changed(ds, Change("set", 0, ds[0]))
    return sched


def names(seq: list[DestState | None], ds: list[DestState]) -> str:
    return "".join("-" if d is None else "abcdefgh"[ds.index(d)] for d in seq)


def run(name: str, ds: list[DestState], n: int, flags: int = 0, req: Request | None = None) -> str:
    sched = setup(name, ds, flags)
    req = req or Request(A("198.51.100.1"))
    return names([sched.schedule(ds, req) for _ in range(n)], ds)


def test_every_ipvs_scheduler_exists():
    assert len(SCHEDULERS) == 14
    for name in SCHEDULERS:
        assert make(name).name == name
    with pytest.raises(KeyError):
        make("nope")


# ---------------------------------------------------------------------------- round robin
def test_rr_cycles_in_list_order_skipping_quiesced_and_overloaded():
    ds = dests(1, 1, 1)
    assert run("rr", ds, 6) == "abcabc"
    ds[1].weight = 0
    assert run("rr", ds, 4) == "acac"
    ds[2].overloaded = True
    assert run("rr", ds, 2) == "aa"
    ds[0].weight = 0
    assert run("rr", ds, 1) == "-"


def test_rr_pointer_follows_removal_to_the_previous_destination():
    ds = dests(1, 1, 1)
    sched = setup("rr", ds)
    req = Request(A("198.51.100.1"))
    assert names([sched.schedule(ds, req) for _ in range(2)], ds) == "ab"
    removed = ds[1]
    sched.changed(ds, Change("del", 1, removed))
    ds.remove(removed)
    assert names([sched.schedule(ds, req) for _ in range(3)], ds) == "bab"  # b is now the old c


def test_wrr_steps_by_gcd_from_max_weight():
    assert run("wrr", dests(4, 3, 2), 18) == "aababcabc" * 2
    assert run("wrr", dests(100, 50), 6) == "aabaab"
    assert run("wrr", dests(1, 0, 1), 4) == "acac"
    assert run("wrr", dests(0, 0), 2) == "--"


def test_wrr_distribution_is_the_weights():
    ds = dests(5, 3, 1, 7)
    got = Counter(run("wrr", ds, 16 * 10))
    assert got == {"a": 50, "b": 30, "c": 10, "d": 70}


# ---------------------------------------------------------------------------- least connection
def test_lc_counts_active_as_256_inactive_and_ties_go_first():
    ds = dests(1, 1, 1)
    ds[0].active, ds[1].inactive, ds[2].inactive = 1, 255, 256
    assert run("lc", ds, 1) == "b"
    ds[1].inactive = 256
    assert run("lc", ds, 1) == "a"       # 256 == 256 == 256: the first
    ds[0].weight = 0
    assert run("lc", ds, 1) == "b"


def test_wlc_weighs_overhead_by_weight():
    ds = dests(1, 3)
    ds[0].active, ds[1].active = 1, 2          # 256/1 vs 512/3
    assert run("wlc", ds, 1) == "b"
    ds[1].active = 3                            # 256/1 vs 768/3: equal, the first
    assert run("wlc", ds, 1) == "a"
    ds[0].overloaded = True
    assert run("wlc", ds, 1) == "b"


def test_sed_and_nq():
    ds = dests(1, 2)
    ds[0].active, ds[1].active = 0, 1       # sed: (0+1)/1 vs (1+1)/2: equal, the first
    assert run("sed", ds, 1) == "a"
    ds[0].active = 1                         # 2/1 vs 2/2
    assert run("sed", ds, 1) == "b"
    ds = dests(5, 1)
    ds[0].active, ds[1].active = 1, 0        # nq: an idle server wins at once
    assert run("nq", ds, 1) == "b"
    assert run("sed", ds, 1) == "a"          # 2/5 < 1/1
    ds[1].active = 1
    assert run("nq", ds, 1) == "a"


def test_fo_and_ovf():
    ds = dests(2, 5, 5)
    assert run("fo", ds, 3) == "bbb"
    ds[1].overloaded = True
    assert run("fo", ds, 1) == "c"
    ds = dests(2, 5)
    ds[1].active = 5
    assert run("ovf", ds, 1) == "b"          # active > weight only overflows
    ds[1].active = 6
    assert run("ovf", ds, 1) == "a"
    ds[0].active = 3
    assert run("ovf", ds, 1) == "-"


def test_twos_picks_the_less_loaded_of_two_weighted_random_choices():
    ds = dests(1, 1, 2)
    ds[0].active = 3
    draws = iter([0, 3])            # total 5: r1 = 0 -> a, r2 = 3 -> c (1+1+2 >= 3)
    assert run("twos", ds, 1, req=Request(A("198.51.100.1"), rand=lambda: next(draws))) == "c"
    draws = iter([1, 1])            # both a
    assert run("twos", ds, 1, req=Request(A("198.51.100.1"), rand=lambda: next(draws))) == "a"
    ds[2].active = 100
    draws = iter([0, 3])            # a: 768*2 vs c: 25600*1
    assert run("twos", ds, 1, req=Request(A("198.51.100.1"), rand=lambda: next(draws))) == "a"


# ---------------------------------------------------------------------------- hashing
def test_sh_bucket_of_an_address_is_the_kernels_hash_32():
    # 0x7f000001 * 0x61c88647 = 0x9ac88647 (mod 2**32): top byte 0x9a
    assert hash_32(fold(A("127.0.0.1"))) == 0x9A == 154
    ds = dests(1, 1, 1)
    assert run("sh", ds, 3, req=Request(A("127.0.0.1"))) == "bbb"   # bucket 154 -> 154 % 3 == 1
    assert hash_32(fold(A("127.0.0.2"))) == 0xFC                    # 252 % 3 == 0
    assert run("sh", ds, 1, req=Request(A("127.0.0.2"))) == "a"


def test_sh_buckets_follow_weights_and_fallback():
    ds = dests(3, 1)
    sched = setup("sh", ds)
    got = Counter(names(sched.buckets, ds))
    assert got == {"a": 192, "b": 64}
    srcs = [A(f"127.0.{i}.{j}") for i in range(4) for j in range(1, 255)]
    owner = {s: sched.schedule(ds, Request(s)) for s in srcs}
    ds[0].weight = 0
    assert all(sched.schedule(ds, Request(s)) is None for s in srcs if owner[s] is ds[0])
    fb = setup("sh", ds, SVC_F_SCHED1)
    fb.buckets = sched.buckets
    assert all(fb.schedule(ds, Request(s)) is ds[1] for s in srcs)


def test_sh_port_flag_hashes_the_source_port():
    ds = dests(1, 1, 1, 1)
    plain = {run("sh", ds, 1, req=Request(A("127.0.0.9"), port)) for port in range(1000, 1040)}
    ported = {run("sh", ds, 1, SVC_F_SCHED2, Request(A("127.0.0.9"), port)) for port in range(1000, 1040)}
    assert len(plain) == 1 and ported == set("abcd")


def test_dh_hashes_the_destination_address_one_bucket_each():
    ds = dests(5, 1)
    sched = setup("dh", ds)
    assert Counter(names(sched.buckets, ds)) == {"a": 128, "b": 128}
    vip = A("203.0.113.7")
    expect = "ab"[hash_32(fold(vip)) % 2]
    assert run("dh", ds, 2, req=Request(A("127.0.0.1"), daddr=vip)) == expect * 2


def test_hsiphash_matches_the_kernels_self_test_vector():
    # lib/test_siphash.c, 64-bit: key 00..0f, input bytes 00 01 02 03 -> 0x88d38328
    assert hsiphash32(0x03020100, (0x0706050403020100, 0x0F0E0D0C0B0A0908)) == 0x88D38328


def test_mh_table_is_full_weighted_and_stable():
    ds = dests(1, 1, 2)
    sched = setup("mh", ds)
    got = Counter(names(sched.lookup, ds))
    assert sum(got.values()) == 4093
    # Maglev with turns 1:1:2 fills close to 1:1:2
    assert abs(got["c"] / 4093 - 0.5) < 0.02 and abs(got["a"] - got["b"]) < 0.03 * 4093
    before = list(sched.lookup)
    extra = DestState(DestKey(A("192.0.2.99"), 80), 1)
    ds.insert(0, extra)
    sched.changed(ds, Change("add", 0, extra))
    moved = sum(1 for x, y in zip(before, sched.lookup, strict=True) if x is not y and y is not extra)
    assert moved < 0.05 * 4093         # consistent hashing: few entries change owner


def test_mh_quiesced_keeps_its_slots_and_fallback_walks_on():
    ds = dests(1, 1)
    sched = setup("mh", ds)
    srcs = [A(f"127.0.1.{i}") for i in range(1, 200)]
    first = {s: sched.schedule(ds, Request(s)) for s in srcs}
    assert set(first.values()) == set(ds)
    ds[0].weight = 0
    sched.changed(ds, Change("set", 0, ds[0]))
    assert all(sched.schedule(ds, Request(s)) is (None if first[s] is ds[0] else ds[1]) for s in srcs)
    fb = setup("mh", ds, SVC_F_SCHED1)
    assert all(fb.schedule(ds, Request(s)) is ds[1] for s in srcs)


# ---------------------------------------------------------------------------- locality
def test_lblc_sticks_to_a_destination_address_until_it_is_overloaded():
    ds = dests(1, 1)
    sched = setup("lblc", ds)
    vip = A("203.0.113.1")
    req = Request(A("127.0.0.1"), daddr=vip, now=0.0)
    assert sched.schedule(ds, req) is ds[0]
    ds[0].active = 1
    assert sched.schedule(ds, req) is ds[0]          # not over its weight yet
    ds[0].active = 2                                  # > weight, and b is under half
    assert sched.schedule(ds, req) is ds[1]
    assert sched.schedule(ds, Request(A("127.0.0.1"), daddr=vip, now=1.0)) is ds[1]
    later = Request(A("127.0.0.1"), daddr=vip, now=1.0 + 24 * 3600)
    ds[0].active = 0
    ds[1].active = 1
    assert sched.schedule(ds, later) is ds[0]        # the entry expired: wlc again


def test_lblcr_grows_its_set_when_overloaded_and_shrinks_it_after_expiration():
    ds = dests(1, 1, 1)
    sched = setup("lblcr", ds)
    vip = A("203.0.113.1")
    assert sched.schedule(ds, Request(A("127.0.0.1"), daddr=vip)) is ds[0]
    ds[0].active = 2
    assert sched.schedule(ds, Request(A("127.0.0.1"), daddr=vip, now=1)) is ds[1]
    assert sched.entries[vip].members == [ds[1], ds[0]]
    ds[1].active = 1
    assert sched.schedule(ds, Request(A("127.0.0.1"), daddr=vip, now=2)) is ds[1]
    # more than one member and lastmod older than the expiration: the most loaded goes
    assert sched.schedule(ds, Request(A("127.0.0.1"), daddr=vip, now=50_000)) is ds[1]
    assert len(sched.entries[vip].members) == 2
    assert sched.schedule(ds, Request(A("127.0.0.1"), daddr=vip, now=2 + 24 * 3600)) is ds[1]
    assert sched.entries[vip].members == [ds[1]]


# ---------------------------------------------------------------------------- thresholds
def test_thresholds_set_and_clear_overload():
    d = DestState(DestKey(A("192.0.2.1"), 80), 1, u_threshold=4)
    for n in range(1, 5):
        d.inactive = n
        d.update_overload()
    assert d.overloaded
    d.inactive = 3
    d.update_overload()
    assert d.overloaded                  # 3*4 == 12 is not < 4*3
    d.inactive = 2
    d.update_overload()
    assert not d.overloaded
    d = DestState(DestKey(A("192.0.2.1"), 80), 1, u_threshold=4, l_threshold=1)
    d.inactive = 4
    d.update_overload()
    d.inactive = 1
    d.update_overload()
    assert d.overloaded
    d.inactive = 0
    d.update_overload()
    assert not d.overloaded


# ---------------------------------------------------------------------------- properties
weights = st.lists(st.integers(0, 20), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(weights, st.sampled_from([s for s in SCHEDULERS if s != "mh"]), st.integers(0, 2**32 - 1))
def test_never_a_quiesced_or_overloaded_server(ws, name, seed):
    ds = dests(*ws)
    for i, d in enumerate(ds):
        d.overloaded = (seed >> i) & 1 == 1 and i % 3 == 0
        d.active = (seed >> (i + 8)) & 3
    sched = setup(name, ds)
    for i in range(20):
        got = sched.schedule(ds, Request(A(f"127.0.0.{i + 1}"), i, A("203.0.113.1"), float(i),
                                         rand=lambda: seed))
        if got is not None:
            assert got.weight > 0 and not got.overloaded
    if not any(d.usable() for d in ds):
        assert sched.schedule(ds, Request(A("127.0.0.1"))) is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=6))
def test_wrr_and_rr_share_out_exactly_over_a_period(ws):
    ds = dests(*ws)
    import math
    g = math.gcd(*ws)
    period = sum(w // g for w in ws)
    got = Counter(run("wrr", ds, period * 3))
    assert [got["abcdefgh"[i]] for i in range(len(ws))] == [3 * w // g for w in ws]
    assert Counter(run("rr", ds, len(ws) * 2)) == {"abcdefgh"[i]: 2 for i in range(len(ws))}
