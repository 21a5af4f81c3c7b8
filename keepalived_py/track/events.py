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
    generic `notify` script ("$kind $name $state $priority") and the FIFO. `fifo_only`:
    the FIFO line alone, no script and no mail (keepalived's notify_instance_fifo() /
    notify_group_fifo(), used for `fifo_write_vrrp_states_on_reload`)."""

    kind: str
    name: str
    state: str
    priority: int
    fifo_only: bool = False
