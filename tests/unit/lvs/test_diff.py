"""lvs.diff: reconciling by key, changing in place, leaving foreign entries alone."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from keepalived_py.lvs.diff import (
    AddDest,
    AddService,
    ApplyError,
    DelDest,
    DelService,
    Owned,
    SetDest,
    SetService,
    apply,
    diff,
    remove_ours,
)
from keepalived_py.lvs.table import (
    FWD_DROUTE,
    PROTO_TCP,
    Destination,
    DestKey,
    Service,
    ServiceKey,
    Table,
)

A = ipaddress.ip_address
S1 = ServiceKey(4, PROTO_TCP, A("192.0.2.1"), 80)
S2 = ServiceKey(6, fwmark=7)
FOREIGN = ServiceKey(4, PROTO_TCP, A("203.0.113.9"), 1)
D1 = Destination(DestKey(A("192.0.2.11"), 8080), weight=1)
D2 = Destination(DestKey(A("192.0.2.12"), 8080), weight=2)
DF = Destination(DestKey(A("203.0.113.50"), 1), weight=5)


def table(*entries) -> Table:
    return Table.build(entries)


DESIRED = table((Service(S1, "wlc"), [D1, D2]), (Service(S2, "rr", netmask=128), [Destination(DestKey(A("2001:db8::5")))]))


def test_from_empty_adds_services_before_their_destinations():
    ops = diff(Table(), DESIRED)
    kinds = [type(o) for o in ops]
    assert kinds == [AddService, AddService, AddDest, AddDest, AddDest]
    assert apply(Table(), ops) == DESIRED


def test_equal_tables_need_nothing():
    assert diff(DESIRED, DESIRED, Owned.of(DESIRED)) == []


def test_weight_change_is_one_set():
    new = table((Service(S1, "wlc"), [D1, dataclasses.replace(D2, weight=7)]), *list(DESIRED)[1:])
    assert diff(DESIRED, new, Owned.of(DESIRED)) == [SetDest(S1, dataclasses.replace(D2, weight=7))]


@pytest.mark.parametrize("change", [
    {"u_threshold": 9}, {"l_threshold": 3}, {"fwd": FWD_DROUTE}, {"tun_type": 1, "tun_port": 6080}])
def test_any_destination_attribute_is_set_in_place(change):
    new_d2 = dataclasses.replace(D2, **change)
    new = table((Service(S1, "wlc"), [D1, new_d2]), *list(DESIRED)[1:])
    assert diff(DESIRED, new, Owned.of(DESIRED)) == [SetDest(S1, new_d2)]


@pytest.mark.parametrize("change", [{"scheduler": "rr"}, {"flags": 0x10}, {"timeout": 300, "flags": 1},
                                    {"netmask": 0xFFFFFF00}, {"pe_name": "sip"}])
def test_any_service_attribute_is_set_in_place(change):
    new_svc = dataclasses.replace(DESIRED.services[S1], **change)
    new = table((new_svc, [D1, D2]), *list(DESIRED)[1:])
    assert diff(DESIRED, new, Owned.of(DESIRED)) == [SetService(new_svc)]


def test_foreign_entries_are_left_alone():
    actual = table(*DESIRED, (Service(FOREIGN, "rr"), [DF]))
    # also a foreign destination inside one of our services
    actual = table((Service(S1, "wlc"), [D1, D2, DF]), *list(actual)[1:])
    assert diff(actual, DESIRED, Owned.of(DESIRED)) == []


def test_our_stale_entries_go_after_the_new_ones_are_in():
    old = table((Service(S1, "wlc"), [D1, D2]), (Service(S2, "rr", netmask=128), []))
    new = table((Service(S1, "wlc"), [D1, Destination(DestKey(A("192.0.2.13"), 8080))]))
    ops = diff(old, new, Owned.of(old))
    assert ops == [AddDest(S1, Destination(DestKey(A("192.0.2.13"), 8080))), DelDest(S1, D2.key), DelService(S2)]


def test_stale_entries_not_known_as_ours_stay():
    old = table((Service(S1, "wlc"), [D1, D2]), (Service(S2, "rr", netmask=128), []))
    new = table((Service(S1, "wlc"), [D1]))
    assert diff(old, new) == []


def test_remove_ours_takes_services_whole_and_our_destinations_in_foreign_services():
    actual = table((Service(S1, "wlc"), [D1, D2]), (Service(FOREIGN, "rr"), [DF, D1]))
    owned = Owned(frozenset({S1}), frozenset({(S1, D1.key), (S1, D2.key), (FOREIGN, D1.key)}))
    ops = remove_ours(actual, owned)
    assert ops == [DelDest(FOREIGN, D1.key), DelService(S1)]
    assert apply(actual, ops) == table((Service(FOREIGN, "rr"), [DF]))


def test_apply_refuses_what_the_kernel_refuses():
    with pytest.raises(ApplyError):
        apply(DESIRED, [AddService(Service(S1))])
    with pytest.raises(ApplyError):
        apply(DESIRED, [AddDest(S1, D1)])
    with pytest.raises(ApplyError):
        apply(DESIRED, [SetDest(FOREIGN, D1)])
    with pytest.raises(ApplyError):
        apply(Table(), [DelService(S1)])


def test_service_key_invariants():
    with pytest.raises(ValueError):
        ServiceKey(4, PROTO_TCP, A("192.0.2.1"), 80, fwmark=3)
    with pytest.raises(ValueError):
        ServiceKey(6, PROTO_TCP, A("192.0.2.1"), 80)
    with pytest.raises(ValueError):
        Service(S1, flags=0x2)  # SVC_F_HASHED is the kernel's
