"""One module per checker kind, each with the same entry point:

    async def probe(target: Target, params) -> Result

`target` (base.Target) says where and how to connect (the checker's connect_ip/port,
bindto/bind_port, bind_if, fwmark, connect_timeout after keepalived's defaults) and carries
the shared resources (script runner, TLS context, limits); `params` is the checker's typed
config model (keepalived_py.config.model.checkers: TcpCheck, HttpGet, ...). A probe never
raises for what the checked server does (refused, reset, garbage, silence, endless data):
it returns a failed or timed-out Result with a reason, within its timeouts, with bounded
buffers. BFD_CHECK is not a probe (the bfd child reports sessions).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from keepalived_py.check.hysteresis import Kind
from keepalived_py.check.kinds.base import Resources, Target
from keepalived_py.check.result import Result

Probe = Callable[[Target, Any], Awaitable[Result]]


def probe_for(kind: Kind) -> Probe:
    """The probe function of a checker kind (imported on first use)."""
    if kind is Kind.TCP:
        from keepalived_py.check.kinds import tcp as mod
    elif kind in (Kind.HTTP, Kind.SSL):
        from keepalived_py.check.kinds import http as mod  # type: ignore[no-redef]
    elif kind is Kind.SMTP:
        from keepalived_py.check.kinds import smtp as mod  # type: ignore[no-redef]
    elif kind is Kind.DNS:
        from keepalived_py.check.kinds import dns as mod  # type: ignore[no-redef]
    elif kind is Kind.UDP:
        from keepalived_py.check.kinds import udp as mod  # type: ignore[no-redef]
    elif kind is Kind.PING:
        from keepalived_py.check.kinds import ping as mod  # type: ignore[no-redef]
    elif kind is Kind.MISC:
        from keepalived_py.check.kinds import misc as mod  # type: ignore[no-redef]
    elif kind is Kind.FILE:
        from keepalived_py.check.kinds import file as mod  # type: ignore[no-redef]
    else:  # pragma: no cover
        raise ValueError(kind)
    return mod.probe


__all__ = ["Probe", "Resources", "Target", "probe_for"]
