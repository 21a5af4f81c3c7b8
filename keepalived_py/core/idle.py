"""Stand-in runtime for a role whose subsystem is not written yet (VRRP, checkers, BFD).

It keeps the process model honest: the child starts, reads the configuration, follows
reloads and dumps, and stops on request, but runs no protocol. When a role module
`keepalived_py.<role>.daemon` exists, core/child.py runs that instead; nothing here claims
that VRRP (or anything else) works.
"""

from __future__ import annotations

from typing import Any

from keepalived_py.core.context import ChildContext

_NAMES = {"vrrp": "VRRP", "check": "Healthcheck", "bfd": "BFD"}


async def run(ctx: ChildContext) -> int:
    ctx.log.info(f"{_NAMES.get(ctx.role, ctx.role)} runtime not implemented yet in "
                 "keepalived-py: this child only follows configuration, reloads and dumps")

    async def reload(new_config: Any) -> None:
        return None  # nothing running to reconcile

    async def dump(kind: str) -> Any:
        if kind == "json":
            return []
        if kind == "data":
            try:
                from keepalived_py.config.dump import dump_text

                return dump_text(ctx.config)
            except Exception as exc:  # noqa: BLE001 - a dump must not kill the child
                return f"(configuration dump unavailable: {exc})\n"
        return ""  # no counters without a runtime

    ctx.on_reload(reload)
    ctx.on_dump(dump)
    await ctx.stopped()
    return 0
