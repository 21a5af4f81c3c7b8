"""Reconcile the kernel's IPVS table with the desired one: typed operations, never a rebuild.

Pure. `diff(actual, desired, owned)` returns the operations that turn `actual` into `desired`
for the entries that are ours (every desired key, plus `owned`: what we created earlier, or
what a predecessor left) and leave every other entry alone. Anything but a key changes in
place (IPVS_CMD_SET_SERVICE / IPVS_CMD_SET_DEST): a weight, threshold, scheduler, persistence
or forwarding change is a "set", never a delete and add, so connections survive it.

Order: services are added or updated first, then destinations are added or updated, then
stale destinations and services removed, so a pool is never empty in between.
Deleting a service takes its destinations with it, foreign ones included: that is the
kernel's rule, and keepalived's on removing a virtual server.

`apply(table, ops)` is the kernel's semantics on a `Table` (errors for adding what exists or
changing what does not), for the tests and the recording fake.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from keepalived_py.lvs.table import Destination, DestKey, Service, ServiceKey, Table


@dataclass(frozen=True, slots=True)
class AddService:
    service: Service


@dataclass(frozen=True, slots=True)
class SetService:
    service: Service


@dataclass(frozen=True, slots=True)
class DelService:
    key: ServiceKey


@dataclass(frozen=True, slots=True)
class AddDest:
    service: ServiceKey
    dest: Destination


@dataclass(frozen=True, slots=True)
class SetDest:
    service: ServiceKey
    dest: Destination


@dataclass(frozen=True, slots=True)
class DelDest:
    service: ServiceKey
    key: DestKey


Op = AddService | SetService | DelService | AddDest | SetDest | DelDest


@dataclass(frozen=True, slots=True)
class Owned:
    """Kernel entries that are ours although no longer desired (created by us or a predecessor)."""

    services: frozenset[ServiceKey] = frozenset()
    dests: frozenset[tuple[ServiceKey, DestKey]] = frozenset()

    @staticmethod
    def of(table: Table) -> Owned:
        """Everything in `table` (typically the previous desired table)."""
        return Owned(frozenset(table.services),
                     frozenset((s, d) for s in table.services for d in table.destinations(s)))

    def __or__(self, other: Owned) -> Owned:
        return Owned(self.services | other.services, self.dests | other.dests)


def diff(actual: Table, desired: Table, owned: Owned = Owned()) -> list[Op]:
    """Operations that make `actual` equal `desired` on our entries, in a safe order."""
    add_set: list[Op] = []
    dest_add_set: list[Op] = []
    dest_del: list[Op] = []
    svc_del: list[Op] = []
    for svc, dests in desired:
        have = actual.services.get(svc.key)
        if have is None:
            add_set.append(AddService(svc))
            current: dict[DestKey, Destination] = {}
        else:
            if have != svc:
                add_set.append(SetService(svc))
            current = dict(actual.destinations(svc.key))
        wanted = {d.key for d in dests}
        for d in dests:
            was = current.get(d.key)
            if was is None:
                dest_add_set.append(AddDest(svc.key, d))
            elif was != d:
                dest_add_set.append(SetDest(svc.key, d))
        for key in sorted(current, key=DestKey.sort_key):
            if key not in wanted and (svc.key, key) in owned.dests:
                dest_del.append(DelDest(svc.key, key))
    for key in sorted(actual.services, key=ServiceKey.sort_key):
        if key in owned.services and key not in desired.services:
            svc_del.append(DelService(key))
    return add_set + dest_add_set + dest_del + svc_del


def remove_ours(actual: Table, owned: Owned) -> list[Op]:
    """Operations that take away our entries (stop without -I): services we own go whole;
    our destinations inside services that are not ours go one by one."""
    ops: list[Op] = []
    for svc, dests in actual:
        if svc.key in owned.services:
            continue
        ops += [DelDest(svc.key, d.key) for d in dests if (svc.key, d.key) in owned.dests]
    ops += [DelService(k) for k in sorted(actual.services, key=ServiceKey.sort_key) if k in owned.services]
    return ops


class ApplyError(ValueError):
    """An operation the kernel would refuse on this table (EEXIST / ENOENT / ESRCH)."""


@dataclass
class MutableTable:
    """A table being changed one operation at a time."""

    services: dict[ServiceKey, Service] = field(default_factory=dict)
    dests: dict[ServiceKey, dict[DestKey, Destination]] = field(default_factory=dict)


def apply(table: Table, ops: Sequence[Op] | Iterable[Op]) -> Table:
    """`table` after `ops`, as the kernel would do them; ApplyError on the first refusal."""
    m = new_mutable(table)
    for op in ops:
        apply_one(m, op)
    return frozen(m)


def apply_one(m: MutableTable, op: Op) -> None:
    if isinstance(op, AddService):
        if op.service.key in m.services:
            raise ApplyError(f"service {op.service.key} exists")
        m.services[op.service.key] = op.service
        m.dests[op.service.key] = {}
    elif isinstance(op, SetService):
        if op.service.key not in m.services:
            raise ApplyError(f"no service {op.service.key}")
        m.services[op.service.key] = op.service
    elif isinstance(op, DelService):
        if op.key not in m.services:
            raise ApplyError(f"no service {op.key}")
        del m.services[op.key]
        del m.dests[op.key]
    else:
        key = op.service
        if key not in m.services:
            raise ApplyError(f"no service {key}")
        bucket = m.dests[key]
        if isinstance(op, AddDest):
            if op.dest.key in bucket:
                raise ApplyError(f"destination {op.dest.key} exists in {key}")
            bucket[op.dest.key] = op.dest
        elif isinstance(op, SetDest):
            if op.dest.key not in bucket:
                raise ApplyError(f"no destination {op.dest.key} in {key}")
            bucket[op.dest.key] = op.dest
        else:
            if op.key not in bucket:
                raise ApplyError(f"no destination {op.key} in {key}")
            del bucket[op.key]


def new_mutable(table: Table) -> MutableTable:
    """A mutable copy for applying operations one at a time (the fake kernel)."""
    return MutableTable(dict(table.services), {k: dict(table.destinations(k)) for k in table.services})


def frozen(m: MutableTable) -> Table:
    return Table.build((m.services[k], m.dests[k].values()) for k in m.services)
