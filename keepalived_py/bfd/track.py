"""The receiving end of BfdState in the vrrp and check children.

keepalived's vrrp_handle_bfd_event: each event becomes a tracking report (kind "bfd", as
vrrp/tracking.py names track_bfd objects) for every instance and sync group tracking that
bfd_instance. Repeats are passed on, not filtered as keepalived does: the parent replays
the last states to a child once it is ready, and a report that arrived before the
runtime had its instances must not hide that replay (the tracking core ignores a report
that changes nothing). Which track_bfd lines the vrrp child keeps is vrrpd/track_bfd.py's:
the check child imports this module and must not load the VRRP core for it (issue 13).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from keepalived_py.ipc.messages import BfdState
from keepalived_py.track.events import TrackingChanged


def _received(msg: BfdState, detail_log: Callable[[str], None] | None) -> None:
    """With -D, keepalived's vrrp and checker processes both say what they received."""
    if detail_log is not None:
        delivered = max(0, int((time.monotonic() - msg.sent_time) * 1_000_000)) if msg.sent_time else 0
        detail_log(f"Received BFD event: instance {msg.name} is in state {'Up' if msg.up else 'Down'} "
                   f"(delivered in {delivered} usec)")


def bfd_tracking(deliver: Callable[[TrackingChanged], None],
                 detail_log: Callable[[str], None] | None = None) -> Callable[[Any], None]:
    """A ctx.on_message hook turning BfdState into TrackingChanged("bfd", name, ok)."""
    def on_message(msg: Any) -> None:
        if not isinstance(msg, BfdState):
            return
        _received(msg, detail_log)
        deliver(TrackingChanged("bfd", msg.name, ok=msg.up))

    return on_message


def bfd_checking(deliver: Callable[[str, bool], None],
                 detail_log: Callable[[str], None] | None = None) -> Callable[[Any], None]:
    """The check child's hook: BfdState -> deliver(name, up) (CheckRuntime.bfd_event, which
    keeps the last state and lets BFD_CHECK ignore repeats as keepalived does)."""
    def on_message(msg: Any) -> None:
        if not isinstance(msg, BfdState):
            return
        _received(msg, detail_log)
        deliver(msg.name, msg.up)

    return on_message
