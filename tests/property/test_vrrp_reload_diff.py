"""Properties of the reload diff over generated plan sets: every old and new key lands in
exactly one place, in order, and a changed instance releases exactly what its replacement
no longer installs the same way. Pure: no asyncio, no runtime."""

from __future__ import annotations

import dataclasses
from ipaddress import ip_address

from hypothesis import given, settings
from hypothesis import strategies as st

from keepalived_py.vrrpd.ops import RemoveAddress, RemoveRoute, RemoveRule
from keepalived_py.vrrpd.plan import InstancePlan, Key, VmacPlan
from keepalived_py.vrrpd.reload import diff
from tests.unit.vrrpd.test_reload_diff import inst, plans

# ------------------------------------------------------------------ properties

POOL = plans(inst("P", 1, vips="192.0.2.10/24;192.0.2.11/24;192.0.2.12/24;192.0.2.13/24",
                  extra="    virtual_routes {\n        198.51.100.0/24 via 192.0.2.254\n"
                        "        198.51.100.128/25 via 192.0.2.253\n        203.0.113.0/24 dev eth0\n    }\n"
                        "    virtual_rules {\n        from 192.0.2.10 table 100\n        to 192.0.2.11 table 101\n    }"),
             inst("Q", 2, vips="192.0.2.10/24 label eth0:q;192.0.2.11/32"))
P, Q = POOL[("eth0", 1, 4)], POOL[("eth0", 2, 4)]
SPECS = [*P.addresses.items(), *Q.addresses.items()]  # same IPs with other options in Q
VMAC = VmacPlan("vrrp.9", bytes.fromhex("00005e000109"), "eth0", False)


@st.composite
def plan_for(draw, key: Key) -> InstancePlan:
    specs = draw(st.lists(st.sampled_from(SPECS), max_size=4))
    routes = draw(st.lists(st.sampled_from(sorted(P.routes)), unique=True))
    rules = draw(st.lists(st.sampled_from(sorted(P.rules)), unique=True))
    return dataclasses.replace(
        P, name=f"VI_{key[0]}_{key[1]}", key=key, addresses=dict(specs),
        routes={k: P.routes[k] for k in routes}, rules={k: P.rules[k] for k in rules},
        base_params={**P.base_params, "priority": draw(st.sampled_from((100, 200)))},
        vmac=draw(st.sampled_from((None, VMAC))))


@st.composite
def plan_sets(draw) -> dict[Key, InstancePlan]:
    ks = draw(st.lists(st.tuples(st.sampled_from(("eth0", "eth1")), st.integers(1, 4), st.just(4)),
                       unique=True, max_size=6))
    return {k: draw(plan_for(k)) for k in ks}


@settings(max_examples=150, deadline=None)
@given(plan_sets(), plan_sets())
def test_every_key_lands_in_exactly_one_place(old, new):
    d = diff(old, new)
    kept = [p.key for p in d.keep]
    retired = [r.key for r in d.retire]
    started = [p.key for p in d.start]
    assert sorted(kept + retired) == sorted(old) and sorted(kept + started) == sorted(new)
    assert not set(kept) & set(retired) and not set(kept) & set(started)
    # orders: retirements as in the old configuration, keep / start as in the new one
    assert retired == [k for k in old if k in set(retired)]
    assert started == [k for k in new if k in set(started)]
    assert kept == [k for k in new if k in set(kept)]
    for p in d.keep:
        assert p is new[p.key] and p.same_as(old[p.key])
    for r in d.retire:
        assert r.old is old[r.key]
        assert r.replacement is new.get(r.key)
        assert r.removed == (r.key not in new)
        if r.replacement is not None:
            assert not r.replacement.same_as(r.old) and r.replacement in d.start
        assert r.remove_vmac == (r.replacement is None or r.replacement.vmac != r.old.vmac)


@settings(max_examples=150, deadline=None)
@given(plan_sets(), plan_sets())
def test_a_changed_master_releases_exactly_what_its_replacement_lacks(old, new):
    for r in diff(old, new).retire:
        if r.replacement is None:
            assert r.release == ()
            continue
        rep = r.replacement
        addrs = [op.spec for op in r.release if isinstance(op, RemoveAddress)]
        routes = [op.route for op in r.release if isinstance(op, RemoveRoute)]
        rules = [op.rule for op in r.release if isinstance(op, RemoveRule)]
        assert addrs == [s for ip, s in r.old.addresses.items() if rep.addresses.get(ip) != s]
        assert routes == [x for k, x in r.old.routes.items() if k not in rep.routes]
        assert rules == [x for k, x in r.old.rules.items() if k not in rep.rules]
        # what stays installed is exactly what both plans install the same way
        kept_addrs = {ip for ip, s in r.old.addresses.items() if s not in addrs}
        assert all(rep.addresses[ip] == r.old.addresses[ip] for ip in kept_addrs)
        assert all(op.owner == r.old.name for op in r.release)


@settings(max_examples=100, deadline=None)
@given(plan_sets())
def test_no_change_and_from_or_to_nothing(ps):
    same = diff(ps, ps)
    assert same.empty and [p.key for p in same.keep] == list(ps)
    assert [p.key for p in diff({}, ps).start] == list(ps)
    gone = diff(ps, {})
    assert [r.key for r in gone.retire] == list(ps) and all(r.removed and not r.release for r in gone.retire)


def test_pool_has_conflicting_options_for_one_address():
    """The generated plans must exercise 'same address, other options' (a label change)."""
    ip = ip_address("192.0.2.10")
    assert P.addresses[ip] != Q.addresses[ip]
