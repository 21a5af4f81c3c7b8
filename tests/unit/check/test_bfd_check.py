"""BFD_CHECK (keepalived 2.2.7 check_bfd.c): a real server follows its bfd_instance's
session as the bfd child reports it. The pure step, the configuration rules (which
BFD_CHECKs run), and the check runtime over the recording IPVS fake with a fake clock:
Down takes the real server out of the table, Up brings it back, repeats change nothing,
alpha starts it out, a report heard before start or across a reload still counts."""

from __future__ import annotations

import asyncio

from keepalived_py.bfd.track import bfd_checking
from keepalived_py.check import spec as specmod
from keepalived_py.check.hysteresis import CheckerState, Kind, Policy
from keepalived_py.check.kinds import bfd as bfd_kind
from keepalived_py.check.quorum import Log, NotifyRs, SmtpAlert
from keepalived_py.check.runtime import CheckRuntime
from keepalived_py.clock import FakeClock
from keepalived_py.config.loader import load_text
from keepalived_py.ipc.messages import BfdState
from tests.fakes.ipvs import FakeIpvs

RS10 = "[198.51.100.10]:tcp:80"
VS = "[192.0.2.1]:tcp:80"

CONF = """
global_defs {{
    router_id rt
}}
bfd_instance b1 {{
    neighbor_ip 198.51.100.10
    {b1_extra}
}}
bfd_instance b2 {{
    neighbor_ip 198.51.100.11
}}
virtual_server 192.0.2.1 80 {{
    delay_loop 5
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 198.51.100.10 80 {{
        weight 3
        {rs_extra}
        BFD_CHECK {{
            name b1
            {chk_extra}
        }}
    }}
    real_server 198.51.100.11 80 {{
        weight 2
    }}
}}
"""


def conf(b1_extra: str = "", rs_extra: str = "", chk_extra: str = ""):
    result = load_text(CONF.format(b1_extra=b1_extra, rs_extra=rs_extra, chk_extra=chk_extra))
    assert not result.fatal, result.diagnostics
    return result.config


class Harness:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.port = FakeIpvs()
        self.lines: list[str] = []
        self.rt = CheckRuntime(self.port, self.clock, self.lines.append, rand=lambda: 0.0, run_checkers=False)

    async def event(self, name: str, up: bool) -> None:
        self.rt.bfd_event(name, up)
        await self.rt.sync()

    def dests(self) -> dict[str, int]:
        return {f"{d.key.address}:{d.key.port}": d.weight for _svc, ds in self.port.table for d in ds}

    def since(self, n: int) -> list[str]:
        return self.lines[n:]


def run(coro):
    return asyncio.run(coro)


# --------------------------------------------------------------------------- pure
POLICY = Policy(kind=Kind.BFD, rs_label=RS10, vs_label=VS)


def test_first_event_is_always_acted_on_then_repeats_are_ignored():
    start = CheckerState(is_up=True)                       # non-alpha, not run
    step = bfd_kind.on_event(POLICY, start, "b1", True)
    assert step is not None and step.logs == (f"BFD check of [b1] RS({RS10}) is UP",)
    assert step.verdict is not None and step.verdict.first and step.verdict.up and step.verdict.was_up
    assert step.state == CheckerState(is_up=True, has_run=True)
    assert bfd_kind.on_event(POLICY, step.state, "b1", True) is None
    down = bfd_kind.on_event(POLICY, step.state, "b1", False)
    assert down is not None and down.logs == (f"BFD check of [b1] RS({RS10}) is DOWN",)
    assert down.verdict is not None and not down.verdict.up and down.verdict.was_up and not down.verdict.first
    assert down.verdict.alert == "=> BFD CHECK b1 failed on service <="
    assert bfd_kind.on_event(POLICY, down.state, "b1", False) is None
    up = bfd_kind.on_event(POLICY, down.state, "b1", True)
    assert up is not None and up.verdict is not None and up.verdict.alert == "=> BFD CHECK b1 succeeded on service <="


def test_which_bfd_checks_run():
    _, specs = specmod.build(conf())
    assert [(s.kind, s.params.name, s.rs_key) for s in specs] == [(Kind.BFD, "b1", ("198.51.100.10", 80))]
    # the same instance twice on one real server: the second is dropped (RS already monitoring)
    _, specs = specmod.build(conf(rs_extra="BFD_CHECK {\n name b1\n }\n BFD_CHECK {\n name b2\n }"))
    assert sorted(s.params.name for s in specs) == ["b1", "b2"]
    _, specs = specmod.build(conf(chk_extra="}\n BFD_CHECK {\n name b1"))
    assert [s.params.name for s in specs] == ["b1"]
    _, specs = specmod.build(conf(b1_extra="vrrp"))                      # events go to vrrp only
    assert specs == []
    _, specs = specmod.build(conf(b1_extra="vrrp\n checker"))
    assert [s.params.name for s in specs] == ["b1"]


def test_alpha_is_inherited_from_the_real_server_and_virtual_server():
    _, specs = specmod.build(conf(rs_extra="alpha"))
    assert specs[0].policy.alpha
    _, specs = specmod.build(conf(rs_extra="alpha", chk_extra="alpha off"))
    assert not specs[0].policy.alpha
    _, specs = specmod.build(conf())
    assert not specs[0].policy.alpha


# --------------------------------------------------------------------------- runtime
def test_down_removes_the_real_server_and_up_restores_it():
    async def main():
        h = Harness()
        await h.rt.start(conf())
        assert "Activating BFD healthchecker" in h.lines
        assert not any("Activating healthchecker" in li for li in h.lines)   # no runs for BFD_CHECK
        assert h.dests() == {"198.51.100.10:80": 3, "198.51.100.11:80": 2}
        n = len(h.lines)
        await h.event("b1", False)              # the bfd child's report at its start
        assert h.dests() == {"198.51.100.11:80": 2}
        assert h.since(n) == [f"BFD check of [b1] RS({RS10}) is DOWN", f"Removing service {RS10} from VS {VS}"]
        n = len(h.lines)
        await h.event("b1", False)              # a repeat (the parent's replay): nothing
        await h.event("b2", False)              # no BFD_CHECK on b2
        assert h.since(n) == []
        await h.event("b1", True)
        assert h.dests() == {"198.51.100.10:80": 3, "198.51.100.11:80": 2}
        assert h.since(n) == [f"BFD check of [b1] RS({RS10}) is UP", f"Adding service {RS10} to VS {VS}"]
        await h.rt.stop()
        n = len(h.lines)
        h.rt.bfd_event("b1", False)             # after stop: nothing moves
        assert h.since(n) == []
    run(main())


def test_alpha_starts_out_of_the_pool_and_first_up_adds_it():
    async def main():
        h = Harness()
        await h.rt.start(conf(chk_extra="alpha"))
        assert h.dests() == {"198.51.100.11:80": 2}
        n = len(h.lines)
        await h.event("b1", False)              # first report: logged, nothing changes
        assert h.since(n) == [f"BFD check of [b1] RS({RS10}) is DOWN"]
        assert h.dests() == {"198.51.100.11:80": 2}
        await h.event("b1", True)
        assert h.dests() == {"198.51.100.10:80": 3, "198.51.100.11:80": 2}
        await h.rt.stop()
    run(main())


def test_a_report_heard_before_start_counts():
    async def main():
        h = Harness()
        h.rt.bfd_event("b1", True)
        await h.rt.start(conf(chk_extra="alpha"))
        await h.rt.sync()
        assert h.dests() == {"198.51.100.10:80": 3, "198.51.100.11:80": 2}
        assert f"BFD check of [b1] RS({RS10}) is UP" in h.lines
        await h.rt.stop()
    run(main())


def test_reload_keeps_the_checker_state_and_a_new_bfd_check_hears_the_last_report():
    async def main():
        h = Harness()
        cfg = conf()
        await h.rt.start(cfg)
        await h.event("b1", False)
        await h.event("b2", False)
        n = len(h.lines)
        await h.rt.reload(conf())               # same checker: migrated, still down, silent
        assert h.dests() == {"198.51.100.11:80": 2}
        assert not any("BFD check" in li for li in h.since(n))
        assert "Activating BFD healthchecker" in h.since(n)
        n = len(h.lines)
        # a new BFD_CHECK (on b2, reported Down before) on the other real server
        text = CONF.format(b1_extra="", rs_extra="", chk_extra="").replace(
            "weight 2\n", "weight 2\n BFD_CHECK {\n name b2\n }\n")
        await h.rt.reload(load_text(text).config)
        await h.rt.sync()
        assert "BFD check of [b2] RS([198.51.100.11]:tcp:80) is DOWN" in h.since(n)
        assert h.dests() == {}
        await h.event("b1", True)
        await h.event("b2", True)
        assert h.dests() == {"198.51.100.10:80": 3, "198.51.100.11:80": 2}
        await h.rt.stop()
    run(main())


def test_smtp_alert_and_notifies_follow_keepalived():
    async def main():
        h = Harness()
        await h.rt.start(conf(rs_extra="smtp_alert"))
        sched = h.rt.scheduler
        assert sched is not None
        out = bfd_kind.deliver(sched.specs, sched.states, h.rt.pool, "b1", False)
        assert Log(f"BFD check of [b1] RS({RS10}) is DOWN") in out
        assert any(isinstance(d, SmtpAlert) and d.message == "=> BFD CHECK b1 failed on service <=" for d in out)
        assert any(isinstance(d, NotifyRs) and not d.up for d in out)
        assert bfd_kind.deliver(sched.specs, sched.states, h.rt.pool, "b1", False) == []
        await h.rt.stop()
    run(main())


def test_the_check_child_hook_delivers_and_says_so_with_detail():
    got: list[tuple[str, bool]] = []
    said: list[str] = []
    hook = bfd_checking(lambda name, up: got.append((name, up)), said.append)
    hook(BfdState(name="b1", up=True))
    hook("something else")
    assert got == [("b1", True)]
    assert said == ["Received BFD event: instance b1 is in state Up (delivered in 0 usec)"]


def test_reload_preview_includes_the_last_bfd_report():
    from keepalived_py.observe.ipvs_preview import reload_ops

    async def main():
        h = Harness()
        await h.rt.start(conf())
        await h.event("b2", False)
        text = CONF.format(b1_extra="", rs_extra="", chk_extra="").replace(
            "weight 2\n", "weight 2\n BFD_CHECK {\n name b2\n }\n")
        new = load_text(text).config
        actual = await h.port.dump()
        ops = reload_ops(h.rt, new, actual)
        n = len(h.port.ops())
        await h.rt.reload(new)
        return ops, h.port.ops()[n:]
    ops, done = run(main())
    assert ops == done and len(done) == 1       # the new BFD_CHECK's server leaves at once


def test_config_test_names_what_does_not_run_as_keepalived_does():
    text = CONF.format(b1_extra="vrrp", rs_extra="BFD_CHECK {\n name b2\n }\n BFD_CHECK {\n name b2\n }",
                       chk_extra="")
    result = load_text(text)
    lines = text.splitlines()
    got = [(d.message, d.pos.line) for d in result.diagnostics if "BFD_CHECK" in d.message]
    name_lines = [i + 1 for i, li in enumerate(lines) if li.strip().startswith("name b")]
    assert got == [("([198.51.100.10]:tcp:80) BFD_CHECK - RS already monitoring b2", name_lines[1]),
                   ("([198.51.100.10]:tcp:80) BFD_CHECK - BFD b1 not configured", name_lines[2])]
