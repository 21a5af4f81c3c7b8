"""Reload: what carries over from the old configuration (keepalived's clear_diff_services and
migrate_checkers), with the scheduler and fake probes."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from keepalived_py.check import hysteresis as hy
from keepalived_py.check import reload as rl
from keepalived_py.check import spec as specmod
from keepalived_py.check.quorum import DestChanged, Log, Pool
from keepalived_py.check.result import Result, Status
from keepalived_py.check.scheduler import Scheduler
from keepalived_py.clock import FakeClock
from keepalived_py.config.loader import load_text

VS = ("ip", None, 80, "TCP")


def conf(*servers: str, extra_vs: str = "") -> str:
    body = "\n".join(servers)
    return f"""
virtual_server 192.0.2.1 80 {{
    delay_loop 10
    protocol TCP
{body}
}}
{extra_vs}
"""


def rs(n: int, weight: int = 1, checker: str = "TCP_CHECK { connect_timeout 2 }", extra: str = "") -> str:
    return f"    real_server 192.0.2.{n} 80 {{\n        weight {weight}\n        {extra}\n        {checker}\n    }}"


def build(text):
    result = load_text(text)
    assert not result.fatal, result.diagnostics
    return specmod.build(result.config)


class Probes:
    def __init__(self):
        self.down: set[str] = set()

    def __call__(self, kind):
        async def probe(target, params):
            return Result(Status.FAILED, "refused") if target.address in self.down else Result(Status.OK)
        return probe


async def settle_all(sched, clock, until):
    while (due := sched.next_due()) is not None and due <= until:
        clock.set(max(due, clock.now()))
        sched.tick()
        await sched.settle()
    clock.set(max(until, clock.now()))


def make(text):
    servers, specs = build(text)
    clock = FakeClock(0.0)
    out: list = []
    probes = Probes()
    sched = Scheduler(specs, Pool(servers), clock=clock, emit=out.extend, rand=lambda: 0.0, probe_for=probes)
    return sched, clock, out, probes


def vs_key(sched):
    return next(iter(sched.pool.table()))


def logs(out):
    return [d.text for d in out if isinstance(d, Log)]


def test_same_config_keeps_everything():
    async def main():
        sched, clock, out, probes = make(conf(rs(10), rs(11)))
        sched.start()
        probes.down.add("192.0.2.11")
        await settle_all(sched, clock, 5)
        before = sched.pool.table()
        out.clear()
        servers, specs = build(conf(rs(10), rs(11)))
        res = sched.reload(specs, servers)
        return before, sched.pool.table(), res, sched
    before, after, res, sched = asyncio.run(main())
    assert before == after and ("192.0.2.11", 80) not in after[vs_key(sched)]
    assert not [d for d in res if isinstance(d, DestChanged)]
    # every checker is activated again (keepalived re-registers them), nothing else is said
    assert logs(res) == ["Activating healthchecker for service [192.0.2.10]:tcp:80 for VS [192.0.2.1]:tcp:80",
                         "Activating healthchecker for service [192.0.2.11]:tcp:80 for VS [192.0.2.1]:tcp:80"]


def test_removed_and_added_real_servers_and_weight_change():
    async def main():
        sched, clock, out, probes = make(conf(rs(10, weight=3), rs(11)))
        sched.start()
        await settle_all(sched, clock, 5)
        servers, specs = build(conf(rs(10, weight=5), rs(12, extra="alpha")))
        res = sched.reload(specs, servers)
        table = sched.pool.table()
        await settle_all(sched, clock, 20)
        return res, table, sched.pool.table()
    res, table, later = asyncio.run(main())
    vs = next(iter(table))
    texts = logs(res)
    assert "service [192.0.2.11]:tcp:80 no longer exist" in texts
    assert "Removing service [192.0.2.11]:tcp:80 from VS [192.0.2.1]:tcp:80" in texts
    assert "Changing weight from 3 to 5 for active service [192.0.2.10]:tcp:80 of VS [192.0.2.1]:tcp:80" in texts
    assert DestChanged(vs, ("192.0.2.11", 80), None) in res
    assert DestChanged(vs, ("192.0.2.10", 80), 5) in res
    assert table[vs] == {("192.0.2.10", 80): 5}          # the new alpha server waits for its check
    assert later[vs] == {("192.0.2.10", 80): 5, ("192.0.2.12", 80): 1}


def test_failed_server_stays_down_across_reload():
    async def main():
        sched, clock, out, probes = make(conf(rs(10), rs(11)))
        sched.start()
        probes.down.add("192.0.2.11")
        await settle_all(sched, clock, 5)
        servers, specs = build(conf(rs(10), rs(11)))
        sched.reload(specs, servers)
        state = next(s for c, s in sched.states.items() if c[1] == ("192.0.2.11", 80))
        return state, sched.pool.table()
    state, table = asyncio.run(main())
    assert not state.is_up and state.has_run
    assert ("192.0.2.11", 80) not in next(iter(table.values()))


def test_changed_checker_starts_afresh():
    async def main():
        sched, clock, out, probes = make(conf(rs(10), rs(11)))
        sched.start()
        probes.down.add("192.0.2.11")
        await settle_all(sched, clock, 5)
        servers, specs = build(conf(rs(10), rs(11, checker="TCP_CHECK { connect_timeout 3 }")))
        res = sched.reload(specs, servers)
        state = next(s for c, s in sched.states.items() if c[1] == ("192.0.2.11", 80))
        return state, res
    state, res = asyncio.run(main())
    # a new (non-alpha) checker on a server that is not alive and has no checker that ran: the
    # server goes back in, as keepalived's migrate_checkers does, and one failure is enough
    assert not state.has_run and state.is_up and state.retry_it == 1
    assert "Adding service [192.0.2.11]:tcp:80 to VS [192.0.2.1]:tcp:80" in logs(res)


def test_removed_virtual_server():
    async def main():
        extra = "virtual_server 192.0.2.2 80 {\n protocol TCP\n real_server 192.0.2.20 80 {\n }\n}"
        sched, clock, out, probes = make(conf(rs(10), extra_vs=extra))
        sched.start()
        servers, specs = build(conf(rs(10)))
        return sched.reload(specs, servers)
    res = asyncio.run(main())
    assert "Removing Virtual Server [192.0.2.2]:tcp:80" in logs(res)
    assert "Removing service [192.0.2.20]:tcp:80 from VS [192.0.2.2]:tcp:80" in logs(res)


def test_migrate_retry_and_misc_weights():
    old = hy.Policy(hy.Kind.TCP, retry=5)
    state = hy.CheckerState(is_up=True, has_run=True, retry_it=4)
    assert rl.migrate(old, state, hy.Policy(hy.Kind.TCP, retry=3)).retry_it == 2
    assert rl.migrate(old, state, hy.Policy(hy.Kind.TCP, retry=9)).retry_it == 4
    assert rl.migrate(old, state, hy.Policy(hy.Kind.TCP, retry=0)).retry_it == 0
    misc = hy.Policy(hy.Kind.MISC, misc_dynamic=True, iweight=3)
    m = rl.migrate(misc, hy.CheckerState(is_up=True, has_run=True, last_exit=12, cur_weight=7), misc)
    assert m.cur_weight == 7 and m.last_exit == 12
    # keepalived 2.2.7's migrate_misc_check: exit 0 gives -weight (kept for parity)
    z = rl.migrate(misc, hy.CheckerState(is_up=True, has_run=True, last_exit=0), misc)
    assert z.cur_weight == -3


def test_reload_drops_probes_in_flight():
    async def main():
        sched, clock, out, probes = make(conf(rs(10)))
        gate = asyncio.Event()

        def slow(kind):
            async def probe(target, params):
                await gate.wait()
                return Result(Status.FAILED, "late")
            return probe
        sched.probe_for = slow
        sched.start()
        clock.set(1.0)
        sched.tick()
        await asyncio.sleep(0)
        servers, specs = build(conf(rs(10)))
        sched.probe_for = Probes()
        sched.reload(specs, servers)
        gate.set()
        await sched.settle()
        assert sched.in_flight == 0
        await settle_all(sched, clock, 30)
        return sched.pool.table()
    table = asyncio.run(main())
    assert next(iter(table.values())) == {("192.0.2.10", 80): 1}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sets(st.integers(10, 13)), min_size=1, max_size=4), st.booleans(), st.booleans())
def test_reloading_the_same_configuration_changes_nothing(rounds, alpha, inhibit):
    extra = ("alpha\n" if alpha else "") + ("inhibit_on_failure" if inhibit else "")
    text = conf(*(rs(n, weight=n - 9, extra=extra) for n in range(10, 14)))

    async def main():
        sched, clock, out, probes = make(text)
        sched.start()
        t = 0.0
        for down in rounds:
            probes.down = {f"192.0.2.{n}" for n in down}
            t += 10
            await settle_all(sched, clock, t)
        before = sched.pool.table()
        quorum = sched.pool.quorum_up(vs_key(sched))
        servers, specs = build(text)
        res = sched.reload(specs, servers)
        return before, sched.pool.table(), quorum, sched.pool.quorum_up(vs_key(sched)), res
    before, after, q0, q1, res = asyncio.run(main())
    assert before == after and q0 == q1
    assert not [d for d in res if isinstance(d, DestChanged)]
