"""The role interface (ChildContext hooks) driven over the IPC channel, in one process:
what the VRRP runtime will plug into. No subprocess, no signals."""

from __future__ import annotations

import asyncio
import logging

import pytest

from keepalived_py.core.child import ChildProcess, resolve_role
from keepalived_py.core.context import ChildContext
from keepalived_py.core.options import parse_args
from keepalived_py.ipc import messages as m
from keepalived_py.ipc.channel import Channel, make_pair

GOOD = "global_defs {\n    router_id a\n}\n"


def test_role_hooks_over_the_channel(tmp_path):
    conf = tmp_path / "k.conf"
    conf.write_text(GOOD)
    seen: dict[str, list] = {"reload": [], "dump": []}

    async def role(ctx: ChildContext) -> int:
        async def on_reload(new_config):
            seen["reload"].append(new_config)

        async def on_dump(kind):
            seen["dump"].append(kind)
            return [{"iname": "VI_1"}] if kind == "json" else f"{kind} of {ctx.role}\n"

        ctx.on_reload(on_reload)
        ctx.on_dump(on_dump)
        await ctx.stopped()
        return 3

    async def go():
        parent_sock, child_sock = make_pair()
        ctx = ChildContext(role="vrrp", options=parse_args(["-f", str(conf)]), config=None,
                           log=logging.getLogger("test.child"), pid_file=str(tmp_path / "p"))
        serving = asyncio.ensure_future(ChildProcess(ctx, child_sock).serve(role, install_signals=False))
        parent = await Channel.open(parent_sock)
        ready = await parent.recv()
        await parent.send(m.DumpRequest(seq=1, kind="stats"))
        stats = await parent.recv()
        await parent.send(m.DumpRequest(seq=2, kind="json"))
        js = await parent.recv()
        await parent.send(m.Reload(seq=1, config_file=str(conf)))
        done1 = await parent.recv()
        conf.write_text(GOOD + "garbage {\n")
        await parent.send(m.Reload(seq=2, config_file=str(conf)))
        done2 = await parent.recv()
        await parent.send(m.Stop())
        status = await asyncio.wait_for(serving, 10)
        parent.close()
        return ready, stats, js, done1, done2, status, ctx

    ready, stats, js, done1, done2, status, ctx = asyncio.run(go())
    assert isinstance(ready, m.Ready) and ready.role == "vrrp"
    assert stats == m.DumpReply(seq=1, kind="stats", text="stats of vrrp\n")
    assert js == m.DumpReply(seq=2, kind="json", json=[{"iname": "VI_1"}])
    assert done1 == m.ReloadDone(seq=1, ok=True)
    assert not done2.ok and "garbage" in done2.error
    assert len(seen["reload"]) == 1 and ctx.config is seen["reload"][0] and ctx.reload_count == 1
    assert seen["dump"] == ["stats", "json"]
    assert status == 3


def test_each_role_runs_its_own_runtime_and_an_unknown_one_is_an_error():
    import keepalived_py.bfd.daemon
    import keepalived_py.check.daemon
    import keepalived_py.vrrpd.daemon

    assert resolve_role("vrrp") is keepalived_py.vrrpd.daemon.run
    assert resolve_role("check") is keepalived_py.check.daemon.run
    assert resolve_role("bfd") is keepalived_py.bfd.daemon.run
    with pytest.raises(ModuleNotFoundError):
        resolve_role("nosuchrole")


def test_oversized_dump_is_replaced_by_a_note(tmp_path):
    conf = tmp_path / "k.conf"
    conf.write_text(GOOD)

    async def role(ctx: ChildContext) -> int:
        async def on_dump(kind):
            return "x" * (m.MAX_MESSAGE + 10)

        ctx.on_dump(on_dump)
        await ctx.stopped()
        return 0

    async def go():
        parent_sock, child_sock = make_pair()
        ctx = ChildContext(role="vrrp", options=parse_args(["-f", str(conf)]), config=None,
                           log=logging.getLogger("test.child"), pid_file=str(tmp_path / "p"))
        serving = asyncio.ensure_future(ChildProcess(ctx, child_sock).serve(role, install_signals=False))
        parent = await Channel.open(parent_sock)
        await parent.recv()
        await parent.send(m.DumpRequest(seq=7, kind="data"))
        reply = await parent.recv()
        await parent.send(m.Stop())
        await asyncio.wait_for(serving, 10)
        parent.close()
        return reply

    reply = asyncio.run(go())
    assert reply.seq == 7 and reply.text.startswith("(dump not sent:")
