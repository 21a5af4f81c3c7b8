"""The bfd child's role: `run(ctx)` (picked up by core/child.py).

Starts the sessions of the configuration's bfd_instance blocks, reports each Up / Down
to the parent as a BfdState message (the parent forwards it to the vrrp and check
children, as keepalived writes bfd_event_t to its event pipes), reconciles on reload by
instance name, and writes keepalived_bfd.data on USR1. Its Up sessions are recorded beside
its pid file (`<pid file>.state`, bfd/resume.py) so that a respawned child, or the child of
an in-place restart (ctx.resume), carries them on instead of flapping them.
"""

from __future__ import annotations

import time
from typing import Any

from keepalived_py.bfd.dump import SessionView, data_text
from keepalived_py.bfd.runtime import BfdRuntime
from keepalived_py.core.context import ChildContext
from keepalived_py.ipc.messages import BfdState
from keepalived_py.vrrpd.adopt import StateFile


async def run(ctx: ChildContext) -> int:
    detail = bool(getattr(ctx.options, "log_detail", 0))

    def report(name: str, up: bool, to_vrrp: bool, to_checker: bool) -> None:
        ctx.send(BfdState(name=name, up=up, vrrp=to_vrrp, checker=to_checker, sent_time=time.monotonic()))

    state_file = StateFile.beside(ctx.pid_file) if ctx.pid_file else None
    runtime = BfdRuntime(ctx.clock, ctx.log, report, log_detail=detail, state_file=state_file,
                         resume=bool(getattr(ctx, "resume", False)))

    async def dump(kind: str) -> Any:
        if kind != "data":
            return [] if kind == "json" else ""
        views = [SessionView(r.plan, r.session, r.send_error, r.tx_errors) for r in runtime.running.values()]
        return data_text(views, runtime.drops(), runtime.totals.rx_datagrams, runtime.now_us())

    ctx.on_reload(runtime.reload)
    ctx.on_dump(dump)
    try:
        try:
            await runtime.start(ctx.config)
        except OSError:
            return 1  # keepalived: "no point to stay alive w/o listening socket" (EXIT_FAILURE)
        await ctx.stopped()
    finally:
        await runtime.stop(quiet=not getattr(ctx, "release", True))
    return 0
