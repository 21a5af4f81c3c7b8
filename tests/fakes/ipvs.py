"""A recording, in-memory IpvsPort: the kernel's IPVS table semantics on a lvs.table.Table.

`calls` records every request in order (("dump",), ("apply", op), ("flush",), ...), so a test
can assert that a weight change was one SetDest and nothing else. `fail` makes the next
operations matching a predicate fail with an errno, as the kernel would refuse them.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from typing import Any

from keepalived_py.lvs.diff import (
    AddDest,
    AddService,
    ApplyError,
    Op,
    apply_one,
    frozen,
    new_mutable,
)
from keepalived_py.lvs.kernel import OpFailure, Timeouts
from keepalived_py.lvs.table import Table


class FakeIpvs:
    def __init__(self, table: Table | None = None, timeouts: Timeouts = Timeouts(900, 120, 300)) -> None:
        self._m = new_mutable(table or Table())
        self._timeouts = timeouts
        self.calls: list[tuple[Any, ...]] = []
        self.fail: Callable[[Op], int | None] = lambda op: None
        self.closed = False

    @property
    def table(self) -> Table:
        return frozen(self._m)

    def ops(self) -> list[Op]:
        return [c[1] for c in self.calls if c[0] == "apply"]

    async def dump(self) -> Table:
        self.calls.append(("dump",))
        return self.table

    async def apply(self, ops: Sequence[Op]) -> list[OpFailure]:
        failures = []
        for op in ops:
            self.calls.append(("apply", op))
            code = self.fail(op)
            if code:
                failures.append(OpFailure(op, code, errno.errorcode.get(code, str(code))))
                continue
            try:
                apply_one(self._m, op)
            except ApplyError as exc:
                code = errno.EEXIST if isinstance(op, AddService | AddDest) else errno.ENOENT
                failures.append(OpFailure(op, code, str(exc)))
        return failures

    async def flush(self) -> None:
        self.calls.append(("flush",))
        self._m = new_mutable(Table())

    async def timeouts(self) -> Timeouts:
        self.calls.append(("timeouts",))
        return self._timeouts

    async def set_timeouts(self, timeouts: Timeouts) -> None:
        self.calls.append(("set_timeouts", timeouts))
        cur = self._timeouts
        self._timeouts = Timeouts(timeouts.tcp or cur.tcp, timeouts.tcpfin or cur.tcpfin, timeouts.udp or cur.udp)

    async def close(self) -> None:
        self.closed = True
