"""What tracking and notify exchange with the children that use them (vrrp and check).

Pure values only, so the VRRP core and the check child can both import them without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TrackingChanged:
    """A tracked object (`track_script`, `track_interface`, `track_file`, `track_process`,
    `track_bfd`) reports: `ok` for up/down kinds, `value` for track_file."""

    kind: str
    name: str
    ok: bool | None = None
    value: int | None = None


@dataclass(frozen=True, slots=True)
class RunNotify:
    """keepalived's notify: `kind` INSTANCE or GROUP, `state` MASTER / BACKUP / FAULT / STOP,
    or an event (MASTER_RX_LOWER_PRI, PRIORITY). The runtime picks notify_<state> and the
    generic `notify` script ("$kind $name $state $priority") and the FIFO."""

    kind: str
    name: str
    state: str
    priority: int
