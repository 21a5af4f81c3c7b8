"""`fifo_write_vrrp_states_on_reload`: after a reload, the notify FIFOs get the state of
every sync group and instance that a reload did not change, as keepalived 2.2.7's
vrrp_init_state() writes them.

Why: a FIFO reader that restarts with keepalived's reload (or lost lines) learns the current
states without waiting for a change. Which ones (vrrp_scheduler.c vrrp_init_state(), on
reload): every sync group except one in FAULT or BACKUP whose state is new (that one sends
its full notifies instead), groups first; then every instance kept from before the reload
whose state is unchanged and not MASTER (a MASTER that stays MASTER takes the reload_master
path, which writes nothing; a new or changed state sends full notifies). Configuration order,
the group's priority 0, an instance's effective priority. Seen with keepalived 2.2.7: a FAULT
group of two, a MASTER alone, SIGHUP -> `GROUP "G" FAULT 0`, `INSTANCE "VI_2" FAULT 100`,
`INSTANCE "VI_3" FAULT 90`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from keepalived_py.track.events import RunNotify
from keepalived_py.vrrp.state import State


def reload_fifo_notes(groups: Iterable[tuple[str, State]], groups_before: Mapping[str, State],
                      instances: Iterable[tuple[str, State, int]],
                      instances_before: Mapping[str, State]) -> list[RunNotify]:
    """The FIFO-only notifies, from the states after the reload (configuration order) and
    before it (by name; absent: new at this reload)."""
    out = []
    for name, state in groups:
        same = groups_before.get(name) == state
        if state in (State.FAULT, State.BACKUP) and not same:
            continue
        out.append(RunNotify("GROUP", name, state.name, 0, fifo_only=True))
    for name, state, priority in instances:
        if state != State.MASTER and instances_before.get(name) == state:
            out.append(RunNotify("INSTANCE", name, state.name, priority, fifo_only=True))
    return out
