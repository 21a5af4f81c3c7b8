"""The states of a VRRP instance (keepalived's VRRP_STATE_*), apart so that the machine's
parts (machine.py, resume.py) share them without an import cycle."""

from __future__ import annotations

from enum import StrEnum

ADVERT_TIMER = "advert"  # the instance's one protocol timer: advert (MASTER) or master down (BACKUP)


class State(StrEnum):
    INIT = "INIT"
    BACKUP = "BACKUP"
    MASTER = "MASTER"
    FAULT = "FAULT"
    STOP = "STOP"
