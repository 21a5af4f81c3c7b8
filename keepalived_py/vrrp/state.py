"""The states of a VRRP instance (keepalived's VRRP_STATE_*), apart so that the machine's
parts (machine.py, receive.py, resume.py) share them without an import cycle."""

from __future__ import annotations

from enum import StrEnum

ADVERT_TIMER = "advert"  # the instance's one protocol timer: advert (MASTER) or master down (BACKUP)
GARP_DELAY_TIMER = "garp_delay"  # the repeat of a new MASTER's GARP / NA burst
LOWER_PRIO_GARP_TIMER = "garp_lower_prio"  # the repeat after a lower-priority advert


class State(StrEnum):
    INIT = "INIT"
    BACKUP = "BACKUP"
    MASTER = "MASTER"
    FAULT = "FAULT"
    STOP = "STOP"
