"""Which bfd_instance blocks keepalived keeps, pure and light: the bfd child's plan and the
vrrp child's track_bfd (vrrpd/track_bfd.py) both ask, and the vrrp child should not import the
session code for it.
"""

from __future__ import annotations

from typing import Any

#: the longest bfd_instance name keepalived takes (sizeof bfd_t.iname - 1); the same value
#: as config/model/bfd.py's, repeated because the core imports no configuration code
BFD_INAME_MAX = 31


def runnable(instances: Any) -> list[Any]:
    """The bfd_instance blocks keepalived's bfd process runs, in configuration order: it
    ignores a name longer than 31 characters or already configured (the first wins,
    alloc_bfd), and at the block's end one without a neighbour, with a source of the other
    family, or whose neighbour (and source, when both give one) an earlier instance has
    (bfd_end_handler, find_bfd_by_addr). config/validate/bfd.py reports each of these."""
    out: list[Any] = []
    names: set[str] = set()
    for inst in instances or ():
        name = str(inst.name)
        if len(name) > BFD_INAME_MAX or name in names:
            continue
        names.add(name)
        nbr, src = getattr(inst, "neighbor_ip", None), getattr(inst, "source_ip", None)
        if nbr is None or (src is not None and src.version != nbr.version):
            continue
        if any(o.neighbor_ip == nbr and (o.source_ip is None or src is None or o.source_ip == src) for o in out):
            continue
        out.append(inst)
    return out
