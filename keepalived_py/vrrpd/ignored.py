"""The vrrp child's start-up notes for keywords it reads but cannot act on here.

Why: a configuration that relies on such a keyword must not behave differently without a
word at runtime (issue 15). Each note is logged once, when the child starts.

`vrf` (vrrp_instance): keepalived 2.2.7 binds an instance's sockets to a VRF device only for
a unicast instance with no `interface`, and its chk_min_cfg() rejects such an instance
("Unknown interface!") before the unicast flag is set; with an interface, the vrf line is
ignored or cleared. So 2.2.7 never runs an instance in a VRF, and neither does keepalived-py
(later keepalived releases do; an interface enslaved to the VRF is the 2.2.7 way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig


def start_notes(config: KeepalivedConfig) -> list[str]:
    """The lines to log once at start, in configuration order."""
    notes = []
    for inst in config.vrrp_instance:
        if inst.vrf is not None:
            notes.append(f"({inst.name}) vrf {inst.vrf} ignored: keepalived 2.2.7 uses vrf only for a unicast "
                         "instance without an interface, and rejects such an instance (Unknown interface!); "
                         "enslave the instance's interface to the VRF instead")
    return notes
