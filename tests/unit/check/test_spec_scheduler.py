"""Config -> checker specs (keepalived's inheritance and labels), and the scheduler driven by a
fake clock with fake probes: cadence, retries, warmup, bounded concurrency, guards."""

from __future__ import annotations

import asyncio

from keepalived_py.check import spec as specmod
from keepalived_py.check.hysteresis import Kind
from keepalived_py.check.quorum import DestChanged, Log, Pool
from keepalived_py.check.result import Result, Status
from keepalived_py.check.scheduler import Scheduler
from keepalived_py.clock import FakeClock
from keepalived_py.config.loader import load_text

CONF = """
virtual_server 192.0.2.1 80 {
    delay_loop 10
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 2
    sorry_server 192.0.2.99 8080
    real_server 192.0.2.10 {
        weight 3
        TCP_CHECK {
            connect_timeout 2
            retry 2
        }
        HTTP_GET {
            url {
              path /health
              digest 0123456789abcdef0123456789abcdef
            }
            url {
              path /b
              virtualhost b.example
            }
            virtualhost www.example
        }
    }
    real_server 192.0.2.11 8080 {
        alpha
        delay_before_retry 4
        MISC_CHECK {
            misc_path "/bin/true arg"
            misc_dynamic
        }
        DNS_CHECK {
            name example.org
        }
    }
}
virtual_server fwmark 7 {
    lb_kind DR
    real_server 192.0.2.20 80 {
        PING_CHECK {
            connect_ip 192.0.2.21
        }
    }
}
"""


def build():
    result = load_text(CONF)
    assert not result.fatal, result.diagnostics
    return specmod.build(result.config)


def test_labels_ports_and_inheritance():
    servers, checkers = build()
    vs1, vs2 = servers
    assert vs1.label == "[192.0.2.1]:tcp:80" and vs2.label == "FWM 7"
    assert [r.label for r in vs1.real_servers] == ["[192.0.2.10]:tcp:80", "[192.0.2.11]:tcp:8080"]
    assert vs1.real_servers[0].key == ("192.0.2.10", 80) and vs1.real_servers[0].weight == 3
    assert vs2.real_servers[0].label == "[192.0.2.20]:none:0"
    assert vs1.sorry.key == ("192.0.2.99", 8080)
    by_kind = {c.kind: c for c in checkers}
    tcp = by_kind[Kind.TCP]
    assert (tcp.policy.retry, tcp.policy.delay_loop, tcp.policy.delay_before_retry, tcp.policy.warmup) == (2, 10, 1.0, 10)
    assert tcp.endpoint.timeout == 2 and tcp.endpoint.port == 80 and tcp.endpoint.address == "192.0.2.10"
    http = by_kind[Kind.HTTP]
    assert http.policy.delay_before_retry == 3.0 and http.policy.retry == 1
    assert http.policy.url_paths == ("/health", "/b")
    assert http.policy.url_success_msgs == ("MD5 digest", "HTTP status code")
    assert http.endpoint.vhosts == ("www.example", "b.example") and http.endpoint.timeout == 5
    misc = by_kind[Kind.MISC]
    assert misc.policy.retry == 0 and misc.policy.alpha and misc.policy.misc_dynamic
    assert misc.policy.misc_name == "/bin/true" and misc.policy.delay_before_retry == 4
    assert misc.endpoint.script_timeout == 10
    dns = by_kind[Kind.DNS]
    assert dns.policy.retry == 3 and dns.policy.delay_before_retry == 4  # from the real server
    ping = by_kind[Kind.PING]
    assert ping.endpoint.address == "192.0.2.21" and ping.policy.delay_loop == 60


class FakeProbes:
    """Scripted results per checker kind; counts runs and concurrency."""

    def __init__(self, results: dict[Kind, list[Result]], block: asyncio.Event | None = None):
        self.results = results
        self.calls: list[tuple[Kind, str, int]] = []
        self.block = block
        self.live = 0
        self.max_live = 0

    def __call__(self, kind):
        async def probe(target, params):
            self.calls.append((kind, target.address, target.url_index))
            self.live += 1
            self.max_live = max(self.max_live, self.live)
            try:
                if self.block is not None:
                    await self.block.wait()
                seq = self.results.get(kind) or [Result(Status.OK)]
                return seq.pop(0) if len(seq) > 1 else seq[0]
            finally:
                self.live -= 1
        return probe


def make(results, specs=None, servers=None, **kw):
    if specs is None:
        servers, specs = build()
    clock = FakeClock(0.0)
    out: list = []
    probes = FakeProbes(results, kw.pop("block", None))
    sched = Scheduler(specs, Pool(servers), clock=clock, emit=out.extend, rand=lambda: 0.5,
                      probe_for=probes, **kw)
    return sched, clock, out, probes


async def advance_to(sched, clock, t):
    """Run every checker due up to time t, in time order."""
    while (due := sched.next_due()) is not None and due <= t:
        clock.set(max(due, clock.now()))
        sched.tick()
        await sched.settle()
    clock.set(max(t, clock.now()))


def test_first_runs_after_bootstrap_and_warmup():
    async def main():
        sched, clock, out, probes = make({})
        sched.start()
        assert "Activating healthchecker for service [192.0.2.10]:tcp:80 for VS [192.0.2.1]:tcp:80" in \
            [d.text for d in out if isinstance(d, Log)]
        await advance_to(sched, clock, 5.9)
        assert probes.calls == []
        await advance_to(sched, clock, 6.0)       # 1 + 10 x 0.5
        return probes.calls
    calls = asyncio.run(main())
    assert {c[0] for c in calls} == {Kind.TCP, Kind.HTTP, Kind.MISC, Kind.DNS}


def test_tcp_retries_delay_before_retry_then_down_and_pool_moves():
    tcp_fail = Result(Status.FAILED, "refused")

    async def main():
        sched, clock, out, probes = make({Kind.TCP: [Result(Status.OK), tcp_fail, tcp_fail, tcp_fail, Result(Status.OK)],
                                          Kind.MISC: [Result(Status.OK, exit_status=0)]})
        sched.start()
        await advance_to(sched, clock, 6.0)   # TCP ok; alpha rs .11 goes up via MISC (DNS ok too)
        await advance_to(sched, clock, 16.0)  # TCP fails: retry 1 at 17, retry 2 at 18 -> down
        await advance_to(sched, clock, 18.0)
        tcp_runs = [c for c in probes.calls if c[0] is Kind.TCP]
        return out, tcp_runs, sched
    out, tcp_runs, sched = asyncio.run(main())
    texts = [d.text for d in out if isinstance(d, Log)]
    assert "TCP_CHECK on service [192.0.2.10]:tcp:80 failed after 2 retries." in texts
    assert "Removing service [192.0.2.10]:tcp:80 from VS [192.0.2.1]:tcp:80" in texts
    assert any(isinstance(d, DestChanged) and d.rs == ("192.0.2.10", 80) and d.weight is None for d in out)
    assert len(tcp_runs) == 4     # t = 6 ok, 16 fail, 17 and 18 retries


def test_http_urls_are_checked_in_turn():
    async def main():
        sched, clock, out, probes = make({})
        sched.start()
        await advance_to(sched, clock, 27.0)
        return [c for c in probes.calls if c[0] is Kind.HTTP]
    calls = asyncio.run(main())
    assert [c[2] for c in calls] == [0, 1, 0]     # t = 6, 16, 26


def test_misc_runs_are_timed_from_start_and_dynamic_weight_changes_pool():
    async def main():
        sched, clock, out, probes = make({Kind.MISC: [Result(Status.OK, exit_status=0), Result(Status.OK, exit_status=7)]})
        sched.start()
        await advance_to(sched, clock, 16.0)
        return out, sched
    out, sched = asyncio.run(main())
    texts = [d.text for d in out if isinstance(d, Log)]
    assert "Changing weight from 1 to 5 for active service [192.0.2.11]:tcp:8080 of VS [192.0.2.1]:tcp:80" in texts
    vs_key = sched.specs[next(iter(sched.specs))].vs_key
    assert sched.pool.destinations(vs_key)[("192.0.2.11", 8080)] == 5


def test_bounded_in_flight_and_a_stuck_probe_does_not_stall_others():
    servers, specs = build()
    many = []
    base = next(s for s in specs if s.kind is Kind.TCP)
    from dataclasses import replace
    for i in range(50):
        many.append(replace(base, id=("x", i)))

    async def main():
        block = asyncio.Event()
        sched, clock, out, probes = make({}, specs=many, servers=servers, max_in_flight=8, block=block)
        sched.start()
        clock.set(6.0)
        started = sched.tick()
        assert started == 8 and sched.in_flight == 8
        await asyncio.sleep(0)
        assert probes.live == 8
        assert sched.tick() == 0
        block.set()
        await sched.settle()
        while sched._waiting:
            sched.tick()
            await sched.settle()
        return probes
    probes = asyncio.run(main())
    assert probes.max_live == 8 and len(probes.calls) == 50


def test_guard_cuts_off_a_hanging_probe():
    servers, specs = build()
    tcp = next(s for s in specs if s.kind is Kind.TCP)

    async def main():
        async def hang(target, params):
            await asyncio.sleep(3600)
        sched = Scheduler([tcp], Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                          probe_for=lambda kind: hang)
        sched.guard = lambda spec: 0.05
        sched.start()
        sched.clock.set(1.0)
        sched.tick()
        await asyncio.sleep(0)
        assert sched.in_flight == 1 and sched.next_wakeup() == 1.05
        sched.clock.set(1.05)
        sched.tick()                  # the sweep cuts the probe off
        await sched.settle()
        return sched.states[tcp.id]
    state = asyncio.run(main())
    assert not state.is_up


def test_probe_exception_is_a_failure():
    servers, specs = build()
    tcp = next(s for s in specs if s.kind is Kind.TCP)

    async def main():
        async def boom(target, params):
            raise RuntimeError("bug")
        out: list = []
        sched = Scheduler([tcp], Pool(servers), clock=FakeClock(0.0), emit=out.extend, rand=lambda: 0.0,
                          probe_for=lambda kind: boom)
        sched.start()
        sched.clock.set(1.0)
        sched.tick()
        await sched.settle()
        return out
    out = asyncio.run(main())
    assert "TCP_CHECK on service [192.0.2.10]:tcp:80 failed." in [d.text for d in out if isinstance(d, Log)]


def test_suspended_virtual_server_skips_runs():
    async def main():
        sched, clock, out, probes = make({})
        vs_key = next(iter(sched.specs.values())).vs_key
        sched.suspend(vs_key, True)
        sched.start()
        await advance_to(sched, clock, 30.0)
        return [c for c in probes.calls if c[1].startswith("192.0.2.1")]
    assert asyncio.run(main()) == []


def test_stop_clears_the_pool():
    async def main():
        sched, clock, out, probes = make({})
        sched.start()
        await advance_to(sched, clock, 6.0)
        return await sched.stop(), sched
    out, sched = asyncio.run(main())
    assert all(not sched.pool.destinations(v) for v in sched.pool.table())
    assert any(isinstance(d, Log) and d.text.startswith("Shutting down service") for d in out)


def test_run_loop_with_real_clock_and_quick_probes():
    """run() on the real clock sleeps until the next due time, runs the checker again and
    stops cleanly. It waits for the third run (not a fixed 0.1 s of real time), so a loaded
    machine makes it slower, never red; a run() that does not loop or does not stop still
    fails (the wait or the stop times out)."""
    from keepalived_py.clock import MonotonicClock
    servers, specs = build()
    tcp = next(s for s in specs if s.kind is Kind.TCP)
    from dataclasses import replace
    quick = replace(tcp, policy=replace(tcp.policy, delay_loop=0.01, warmup=0.0))

    async def main():
        calls = []
        third = asyncio.Event()

        async def ok(target, params):
            calls.append(1)
            if len(calls) >= 3:
                third.set()
            return Result(Status.OK)
        sched = Scheduler([quick], Pool(servers), clock=MonotonicClock(), emit=lambda d: None,
                          rand=lambda: 0.0, probe_for=lambda kind: ok)
        sched.start()
        import keepalived_py.check.hysteresis as hy
        sched._heap = [(sched.clock.now(), 0, quick.id)]   # skip the 1 s bootstrap delay
        assert hy.BOOTSTRAP_DELAY == 1.0
        task = asyncio.get_running_loop().create_task(sched.run())
        await asyncio.wait_for(third.wait(), 30)
        await sched.stop()
        await asyncio.wait_for(task, 30)
        stopped_at = len(calls)
        for _ in range(5):            # stopped: no checker runs any more
            await asyncio.sleep(0)
        return calls, stopped_at
    calls, stopped_at = asyncio.run(main())
    assert len(calls) >= 3 and len(calls) == stopped_at


def test_suspend_and_resume_log_and_skip():
    async def main():
        sched, clock, out, probes = make({})
        sched.start()
        vs_key = next(iter(sched.specs.values())).vs_key
        logs = sched.suspend(vs_key, True)
        assert "Suspending healthchecker for service [192.0.2.10]:tcp:80 for VS [192.0.2.1]:tcp:80" in \
            [d.text for d in logs]
        assert sched.suspend(vs_key, True) == []
        await advance_to(sched, clock, 20.0)
        skipped = len(probes.calls)
        sched.suspend(vs_key, False)
        await advance_to(sched, clock, 80.0)
        return skipped, probes.calls
    skipped, calls = asyncio.run(main())
    assert skipped == 0 and calls


def test_misc_scripts_are_prepared_once_and_missing_ones_disable_their_checker():
    from keepalived_py.check.kinds.base import Resources
    from keepalived_py.scripts.runner import ScriptRunner

    text = CONF.replace('misc_path "/bin/true arg"', 'misc_path "/nonexistent/kpy-check-script"')
    result = load_text(text)
    servers, specs = specmod.build(result.config)
    runner = ScriptRunner(log_fn=lambda _m: None)
    out: list = []
    sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=out.extend, rand=lambda: 0.0,
                      resources=Resources(runner=runner), probe_for=FakeProbes({}))
    sched.start()
    assert not [s for s in sched.specs.values() if s.kind is Kind.MISC]
    assert any(isinstance(d, Log) and d.text == "Disabling misc script /nonexistent/kpy-check-script since not found/accessible"
               for d in out)
    servers, specs = build()
    sched2 = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                       resources=Resources(runner=runner), probe_for=FakeProbes({}))
    sched2.start()
    misc = next(s for s in sched2.specs.values() if s.kind is Kind.MISC)
    target = sched2.target(misc, sched2.states[misc.id])
    assert target.script is not None and target.script.argv[1:] == ("arg",)
    assert target.script.argv[0].endswith("/true")      # the resolved path (/bin may be a link)
    assert target.script_timeout == 10


def test_sorry_server_and_real_server_ports_follow_keepalived():
    text = """
virtual_server 192.0.2.1 80 {
    protocol TCP
    lb_kind DR
    sorry_server 192.0.2.99
    real_server 192.0.2.10 8080 {
    }
}
virtual_server 192.0.2.2 80 {
    protocol TCP
    lb_kind NAT
    sorry_server 192.0.2.99
    real_server 192.0.2.10 {
    }
}
virtual_server fwmark 3 {
    lb_kind DR
    sorry_server 192.0.2.99 99
    real_server 192.0.2.10 8080 {
    }
}
"""
    servers, _ = specmod.build(load_text(text).config)
    dr, nat, fwm = servers
    assert dr.sorry.key == ("192.0.2.99", 80) and dr.real_servers[0].key == ("192.0.2.10", 80)
    assert nat.sorry.key == ("192.0.2.99", 0) and nat.real_servers[0].key == ("192.0.2.10", 80)
    assert fwm.sorry.key == ("192.0.2.99", 0) and fwm.real_servers[0].key == ("192.0.2.10", 0)


def test_file_check_through_the_scheduler():
    text = """
track_file tf1 {
    file /run/kpy-test-weight
}
virtual_server 192.0.2.1 80 {
    protocol TCP
    real_server 192.0.2.10 80 {
        weight 10
        FILE_CHECK {
            track_file tf1
            weight 2
        }
    }
    real_server 192.0.2.11 80 {
        FILE_CHECK {
            track_file tf1
            weight 0
        }
    }
    real_server 192.0.2.12 80 {
        FILE_CHECK {
            track_file tf1
        }
    }
}
"""
    result = load_text(text)
    assert not result.fatal, result.diagnostics
    servers, specs = specmod.build(result.config)
    assert {s.file_path for s in specs} == {"/run/kpy-test-weight"}
    out: list = []
    sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=out.extend, rand=lambda: 0.0,
                      probe_for=FakeProbes({}))
    sched.start({"/run/kpy-test-weight": 0})
    vs = servers[0].key
    assert sched.next_due() is None                     # FILE_CHECKs have no runs
    start = {("192.0.2.10", 80): 10, ("192.0.2.11", 80): 1, ("192.0.2.12", 80): 1}
    assert sched.pool.destinations(vs) == start
    sched.file_value("/run/kpy-test-weight", 3)
    # weight 2: 10 + 3 x 2; weight 0 on .11: a non-zero value is a fault; .12 takes the
    # track_file's own weight (1): 1 + 3
    assert sched.pool.destinations(vs) == {("192.0.2.10", 80): 16, ("192.0.2.12", 80): 4}
    texts = [d.text for d in out if isinstance(d, Log)]
    assert "Changing weight from 10 to 16 for active service [192.0.2.10]:tcp:80 of VS [192.0.2.1]:tcp:80" in texts
    assert "Removing service [192.0.2.11]:tcp:80 from VS [192.0.2.1]:tcp:80" in texts
    sched.file_value("/run/kpy-test-weight", 0)
    assert sched.pool.destinations(vs) == start


def test_probe_modules_are_imported_before_any_run():
    servers, specs = build()
    asked: list = []

    def probe_for(kind):
        asked.append(kind)
        return FakeProbes({})(kind)
    sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                      probe_for=probe_for)
    sched.start()
    assert set(asked) == {Kind.TCP, Kind.HTTP, Kind.MISC, Kind.DNS, Kind.PING}

    async def main():
        n = len(asked)
        sched.clock.set(100.0)
        sched.tick()
        await sched.settle()
        return len(asked) - n
    assert asyncio.run(main()) == 0        # runs use what start() loaded
