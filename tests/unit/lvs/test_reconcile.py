"""lvs.reconcile over the recording fake: start-up order, in-place changes, stop, adoption."""

from __future__ import annotations

import asyncio
import errno
import ipaddress

from keepalived_py.config.loader import load_text
from keepalived_py.lvs.diff import AddDest, AddService, DelDest, DelService, Owned, SetDest
from keepalived_py.lvs.kernel import Timeouts
from keepalived_py.lvs.plan import LiveState, desired_table, rs_ref
from keepalived_py.lvs.reconcile import reconcile, remove, start, stop
from keepalived_py.lvs.table import Destination, DestKey, Service, ServiceKey, Table
from tests.fakes.ipvs import FakeIpvs

A = ipaddress.ip_address
FOREIGN = Table.build([(Service(ServiceKey(4, 6, A("203.0.113.9"), 1), "rr"),
                        [Destination(DestKey(A("203.0.113.10"), 1))])])

CONF = """
global_defs {
    lvs_timeouts tcp 7200 udp 60
}
virtual_server 192.0.2.1 80 {
    protocol TCP
    real_server 192.0.2.2 80 {
        weight 2
    }
    real_server 192.0.2.3 80 {
    }
}
"""


def run(coro):
    return asyncio.run(coro)


def test_start_sets_timeouts_then_programs_the_table_beside_foreign_entries():
    config = load_text(CONF).config
    fake = FakeIpvs(FOREIGN)
    desired = desired_table(config)
    out = run(start(fake, config, desired))
    assert out.failures == []
    assert fake.calls[0] == ("set_timeouts", Timeouts(7200, 0, 60))
    assert run(fake.timeouts()) == Timeouts(7200, 120, 60)
    assert fake.table.restricted(desired.services) == desired
    assert FOREIGN.restricted(FOREIGN.services) == fake.table.restricted(FOREIGN.services)
    assert [type(o) for o in fake.ops()] == [AddService, AddDest, AddDest]


def test_lvs_flush_at_start_removes_everything_first():
    config = load_text("global_defs {\n    lvs_flush\n}\n" + CONF.split("}\n", 2)[2]).config
    fake = FakeIpvs(FOREIGN)
    run(start(fake, config, desired_table(config)))
    assert ("flush",) in fake.calls
    assert fake.table == desired_table(config)


def test_checker_results_change_only_the_destination_concerned():
    config = load_text(CONF).config
    fake = FakeIpvs()
    up = desired_table(config)
    run(start(fake, config, up))
    vs = config.virtual_server[0]
    svc = ServiceKey(4, 6, A("192.0.2.1"), 80)
    first = rs_ref(vs, vs.real_server[0])
    # down, no inhibit_on_failure: the destination goes, nothing else is touched
    fake.calls.clear()
    down = desired_table(config, LiveState(alive={first: False}))
    run(reconcile(fake, down, Owned.of(up)))
    assert fake.ops() == [DelDest(svc, DestKey(A("192.0.2.2"), 80))]
    # back with a dynamic weight: added as it is now
    fake.calls.clear()
    heavier = desired_table(config, LiveState(weights={first: 5}))
    run(reconcile(fake, heavier, Owned.of(down)))
    assert fake.ops() == [AddDest(svc, Destination(DestKey(A("192.0.2.2"), 80), weight=5))]
    # the weight returns to the configured one: one set, in place
    fake.calls.clear()
    run(reconcile(fake, up, Owned.of(heavier)))
    assert fake.ops() == [SetDest(svc, Destination(DestKey(A("192.0.2.2"), 80), weight=2))]
    assert fake.table == up


def test_inhibit_on_failure_is_a_set_to_weight_zero():
    config = load_text(CONF.replace("weight 2", "weight 2\n        inhibit_on_failure")).config
    fake = FakeIpvs()
    up = desired_table(config)
    run(start(fake, config, up))
    vs = config.virtual_server[0]
    fake.calls.clear()
    run(reconcile(fake, desired_table(config, LiveState(alive={rs_ref(vs, vs.real_server[0]): False})),
                  Owned.of(up)))
    assert fake.ops() == [SetDest(ServiceKey(4, 6, A("192.0.2.1"), 80),
                                  Destination(DestKey(A("192.0.2.2"), 80), weight=0))]


def test_stop_removes_ours_and_keeps_foreign():
    config = load_text(CONF).config
    fake = FakeIpvs(FOREIGN)
    desired = desired_table(config)
    run(start(fake, config, desired))
    run(remove(fake, Owned.of(desired)))
    assert fake.table == FOREIGN


def test_respawned_child_adopts_what_its_predecessor_left():
    config = load_text(CONF).config
    desired = desired_table(config)
    stale = Table.build([(Service(ServiceKey(4, 6, A("192.0.2.1"), 81)), [])])
    left = Table.build([*desired, *stale])
    fake = FakeIpvs(left)
    out = run(reconcile(fake, desired, Owned.of(left)))
    assert out.ops == [DelService(ServiceKey(4, 6, A("192.0.2.1"), 81))]
    assert fake.table == desired


def test_a_refused_operation_is_reported_and_the_rest_goes_on():
    config = load_text(CONF).config
    fake = FakeIpvs()
    fake.fail = lambda op: errno.ERANGE if isinstance(op, AddDest) and op.dest.weight == 2 else None
    out = run(start(fake, config, desired_table(config)))
    assert [f.errno for f in out.failures] == [errno.ERANGE]
    assert len(fake.table.destinations(ServiceKey(4, 6, A("192.0.2.1"), 80))) == 1


def test_stop_honours_dont_release_and_flush_on_stop():
    config = load_text(CONF).config
    desired = desired_table(config)
    fake = FakeIpvs(Table.build([*FOREIGN, *desired]))
    run(stop(fake, config, Owned.of(desired), dont_release=True))
    assert fake.calls == []
    run(stop(fake, config, Owned.of(desired)))
    assert fake.table == FOREIGN
    full = load_text("global_defs {\n    lvs_flush_on_stop\n}\n" + CONF.split("}\n", 2)[2]).config
    fake = FakeIpvs(Table.build([*FOREIGN, *desired]))
    run(stop(fake, full, Owned.of(desired)))
    assert ("flush",) in fake.calls and fake.table == Table()
