"""Property: applying diff(actual, desired, owned) to any actual table gives the desired table on
our keys, removes what we own and no longer want, and touches nothing foreign; and it never
deletes and re-adds an entry (every change of attributes is a set)."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from keepalived_py.lvs.diff import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    Owned,
    SetDest,
    SetService,
    apply,
    diff,
    remove_ours,
)
from keepalived_py.lvs.table import Destination, DestKey, Service, ServiceKey, Table

# small key pools, so that actual, desired and owned overlap often
SVC_KEYS = [ServiceKey(4, 6, ipaddress.ip_address(f"192.0.2.{i}"), 80) for i in range(1, 5)] + \
    [ServiceKey(6, 17, ipaddress.ip_address("2001:db8::1"), 53), ServiceKey(4, fwmark=7), ServiceKey(6, fwmark=7)]
DEST_KEYS = [DestKey(ipaddress.ip_address(f"198.51.100.{i}"), p) for i in range(1, 4) for p in (0, 8080)] + \
    [DestKey(ipaddress.ip_address("2001:db8::9"), 80)]

services = st.builds(Service, st.sampled_from(SVC_KEYS), st.sampled_from(["rr", "wlc", "sh"]),
                     st.sampled_from([0, 1, 0x10, 0x19]), st.sampled_from([0, 300]),
                     st.sampled_from([0xFFFFFFFF, 0xFFFFFF00, 64, 128]), st.sampled_from(["", "sip"]))
dests = st.builds(Destination, st.sampled_from(DEST_KEYS), st.sampled_from([0, 2, 3]), st.integers(0, 3),
                  st.sampled_from([0, 10]), st.sampled_from([0, 5]), st.sampled_from([0, 1, 2]),
                  st.sampled_from([0, 6080]), st.sampled_from([0, 1]))


@st.composite
def tables(draw) -> Table:
    svcs = draw(st.lists(services, max_size=5, unique_by=lambda s: s.key))
    return Table.build((s, draw(st.lists(dests, max_size=4, unique_by=lambda d: d.key))) for s in svcs)


@st.composite
def owned_sets(draw) -> Owned:
    svcs = draw(st.frozensets(st.sampled_from(SVC_KEYS)))
    pairs = draw(st.frozensets(st.tuples(st.sampled_from(SVC_KEYS), st.sampled_from(DEST_KEYS))))
    return Owned(svcs, pairs)


def _entries(t: Table) -> set[tuple]:
    out: set[tuple] = set()
    for s, ds in t:
        out.add(("svc", s))
        out |= {("dest", s.key, d) for d in ds}
    return out


@settings(max_examples=400, deadline=None)
@given(actual=tables(), desired=tables(), owned=owned_sets())
def test_diff_reaches_desired_and_spares_foreign(actual: Table, desired: Table, owned: Owned) -> None:
    ops = diff(actual, desired, owned)
    result = apply(actual, ops)  # ApplyError here: an operation the kernel would refuse

    # our keys: the desired services, with the desired destinations plus foreign ones
    for key in desired.services:
        assert result.services[key] == desired.services[key]
        assert dict(result.destinations(key)) == {**{k: d for k, d in actual.destinations(key).items()
                                                     if (key, k) not in owned.dests},
                                                  **dict(desired.destinations(key))}
    # owned but no longer desired: gone
    assert not (set(result.services) & (owned.services - set(desired.services)))
    # foreign services untouched
    for key in set(actual.services) - owned.services - set(desired.services):
        assert result.services[key] == actual.services[key]
        assert dict(result.destinations(key)) == dict(actual.destinations(key))
    # nothing deleted and re-added
    deleted = {("svc", o.key) for o in ops if isinstance(o, DelService)} | \
        {("dest", o.service, o.key) for o in ops if isinstance(o, DelDest)}
    added = {("svc", o.service.key) for o in ops if isinstance(o, AddService)} | \
        {("dest", o.service, o.dest.key) for o in ops if isinstance(o, AddDest)}
    assert not deleted & added
    # attribute changes of existing entries are sets
    for o in ops:
        if isinstance(o, SetService):
            assert o.service.key in actual.services
        if isinstance(o, SetDest):
            assert o.dest.key in actual.destinations(o.service)
    # and a second pass has nothing left to do
    assert diff(result, desired, owned) == []


@settings(max_examples=200, deadline=None)
@given(actual=tables(), owned=owned_sets())
def test_remove_ours_leaves_only_foreign(actual: Table, owned: Owned) -> None:
    result = apply(actual, remove_ours(actual, owned))
    assert not set(result.services) & owned.services
    for key in result.services:
        assert result.services[key] == actual.services[key]
        assert dict(result.destinations(key)) == {k: d for k, d in actual.destinations(key).items()
                                                  if (key, k) not in owned.dests}
    assert _entries(result) <= _entries(actual)
