"""The check child's role: `run(ctx)` (picked up by core/child.py as ROLE_PACKAGES["check"]).

Chooses the IPVS backend (--lvs-backend kernel|userspace|auto: auto takes the kernel's IPVS
when its generic netlink family answers, else the userspace dataplane; said once), runs a
CheckRuntime on the configuration, wires reload (validated by the parent first; a reload that
fails here keeps the running table, core/child.py says so) and the keepalived_check.data
dump, waits for the stop request, then stops the checkers and releases our table unless -I.
A respawned child (ctx.start_count > 0) adopts the table its predecessor left (the runtime
treats every key the configuration can make as ours and reconciles instead of flushing).
"""

from __future__ import annotations

import asyncio
import ctypes
from typing import TYPE_CHECKING, Any

from keepalived_py.bfd.track import bfd_checking
from keepalived_py.check.addrwatch import AddressWatch, ha_suspend_targets, monitor_rcvbuf
from keepalived_py.check.dump import data_text
from keepalived_py.check.runtime import CheckRuntime
from keepalived_py.core.context import ChildContext
from keepalived_py.lvs.kernel import IpvsPort
from keepalived_py.observe import dumps, ipvs_counters
from keepalived_py.observe.check import check_view
from keepalived_py.observe.ipvs_preview import ipvs_preview

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

_PR_SET_NAME = 15


def make_port(prefer: str | None, log) -> IpvsPort:
    """The IpvsPort for `prefer` ("kernel", "userspace", None/"auto"), chosen by the userspace
    package's choose_backend() (`log` is unused: the choice is logged there)."""
    from keepalived_py.lvs.userspace.port import choose_backend
    return choose_backend(None if prefer in (None, "", "auto") else prefer)


def warn_forwarding(port: IpvsPort, config: KeepalivedConfig, warn) -> None:
    """DR/TUN real servers the userspace dataplane serves as NAT, each named with its file
    and line at start (the dataplane's own warning, once per real server, has no position)."""
    try:
        from keepalived_py.lvs.userspace.port import UserspaceIpvs, forwarding_warnings
    except ImportError:
        return
    if isinstance(port, UserspaceIpvs):
        for line in forwarding_warnings(config):
            warn(line)


def _set_process_name(config: KeepalivedConfig, log) -> None:
    """checker_process_name (or keepalived_ipvs with process_names), as keepalived's
    set_process_name; the framework already names us keepalived_chk otherwise."""
    g = getattr(config, "global_defs", None)
    if g is None:
        return
    name = g.checker_process_name or ("keepalived_ipvs" if getattr(g, "process_names", False) else None)
    if not name:
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)
    except (OSError, AttributeError):
        log(f"Unable to set process name to {name}")


async def run(ctx: ChildContext) -> int:
    log = ctx.log.info
    _set_process_name(ctx.config, log)
    port = make_port(getattr(ctx.options, "lvs_backend", None), log)
    warn_forwarding(port, ctx.config, ctx.log.warning)
    runtime = CheckRuntime(port, ctx.clock, log, dont_release=bool(getattr(ctx.options, "dont_release_ipvs", False)),
                           log_detail=bool(getattr(ctx.options, "log_detail", 0)))

    watch: AddressWatch | None = None

    async def watch_addresses(config: KeepalivedConfig) -> None:
        """ha_suspend needs the host's addresses: watched from the first config using it."""
        nonlocal watch
        if watch is None and ha_suspend_targets(config):
            watch = AddressWatch(runtime.addresses_changed, rcvbuf=monitor_rcvbuf(config))
            try:
                runtime.addresses = await watch.start()
            except OSError as exc:
                log(f"Unable to follow the host's addresses for ha_suspend: {exc}")
                watch = None

    async def reload(new_config: KeepalivedConfig) -> None:
        await watch_addresses(new_config)
        await runtime.reload(new_config)

    async def dump(kind: str) -> Any:
        if kind == "data":
            return data_text(runtime)
        if kind == "snapshot":
            return check_view(runtime, await ipvs_counters.read(port))
        if kind.startswith(dumps.PREVIEW):
            return await preview(kind[len(dumps.PREVIEW):])
        if kind == "json":
            return []
        return ""

    async def preview(path: str) -> dict:
        """What a reload to `path` would do to the table (the parent validated it first)."""
        from keepalived_py.core import configload
        result = await asyncio.get_running_loop().run_in_executor(None, configload.load, ctx.options, path)
        blocking = configload.blocking_diagnostics(result)
        if blocking:
            return {"error": str(blocking[0])}
        if runtime.scheduler is None:
            return {"error": "the check child has not started its checkers yet"}
        return ipvs_preview(runtime, result.config, await port.dump())

    ctx.on_reload(reload)
    ctx.on_dump(dump)
    ctx.on_message(bfd_checking(runtime.bfd_event, log if getattr(ctx.options, "log_detail", 0) else None))
    try:
        await watch_addresses(ctx.config)
        await runtime.start(ctx.config, set(watch.addresses) if watch is not None else None)  # a copy: the watch mutates its own
        await ctx.stopped()
    finally:
        if watch is not None:
            watch.close()
        if not ctx.release:  # Stop(release=False), an in-place restart: as with -I
            runtime.dont_release = True
        await runtime.stop()
    return 0
