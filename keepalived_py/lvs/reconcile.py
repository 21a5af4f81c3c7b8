"""Bring the kernel's IPVS table to the plan through an IpvsPort: dump, diff, apply.

The only I/O here is the port's; the decisions are lvs.diff's. The check child calls
`start()` once (keepalived's start-up order: lvs_timeouts, then lvs_flush, then the table),
`reconcile()` whenever the desired table changes (a checker result, a reload), and
`remove()` on stop unless -I (--dont-release-ipvs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keepalived_py.lvs.diff import Op, Owned, diff, remove_ours
from keepalived_py.lvs.kernel import IpvsPort, OpFailure, Timeouts
from keepalived_py.lvs.table import Table

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig


@dataclass(frozen=True, slots=True)
class Outcome:
    ops: list[Op] = field(default_factory=list)
    failures: list[OpFailure] = field(default_factory=list)


def timeouts_of(global_defs: Any) -> Timeouts | None:
    """global_defs' lvs_timeouts as a request, or None when it sets none."""
    lt = getattr(global_defs, "lvs_timeouts", None) if global_defs is not None else None
    if lt is None or not (lt.tcp or lt.tcpfin or lt.udp):
        return None
    return Timeouts(lt.tcp or 0, lt.tcpfin or 0, lt.udp or 0)


async def reconcile(port: IpvsPort, desired: Table, owned: Owned = Owned()) -> Outcome:
    """Make our part of the kernel table equal `desired`; `owned` names what else is ours."""
    actual = await port.dump()
    ops = diff(actual, desired, owned)
    failures = await port.apply(ops) if ops else []
    return Outcome(ops, failures)


async def remove(port: IpvsPort, owned: Owned) -> Outcome:
    """Take our entries out of the kernel, leaving everyone else's."""
    actual = await port.dump()
    ops = remove_ours(actual, owned)
    failures = await port.apply(ops) if ops else []
    return Outcome(ops, failures)


async def start(port: IpvsPort, config: KeepalivedConfig, desired: Table, owned: Owned = Owned()) -> Outcome:
    """keepalived's check child at start (not reload): lvs_timeouts, lvs_flush, then the table.

    Without lvs_flush, `owned` (what a predecessor left, if known) is adopted: entries that
    are still desired are kept and updated in place, the rest of ours removed."""
    global_defs = getattr(config, "global_defs", None)
    timeouts = timeouts_of(global_defs)
    if timeouts is not None:
        await port.set_timeouts(timeouts)
    if global_defs is not None and global_defs.lvs_flush:
        await port.flush()
    return await reconcile(port, desired, owned)


async def stop(port: IpvsPort, config: KeepalivedConfig, owned: Owned, dont_release: bool = False) -> Outcome:
    """The check child stopping: nothing with -I (--dont-release-ipvs); the whole table with
    a bare `lvs_flush_on_stop`; otherwise our entries (keepalived's default and 'VS' differ in
    how they take our services out, not in the table they leave)."""
    if dont_release:
        return Outcome()
    global_defs = getattr(config, "global_defs", None)
    if global_defs is not None and getattr(global_defs, "lvs_flush_on_stop", None) == "full":
        await port.flush()
        return Outcome()
    return await remove(port, owned)
