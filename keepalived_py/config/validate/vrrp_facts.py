"""What the VRRP configuration checks share (config/validate/vrrp.py's parse phase and
vrrp_complete.py's vrrp_complete_init()): host facts read from /sys/class/net, what is known
about one instance while checking it (Inst), and small helpers. Apart so that each phase
has its own module.
"""

from __future__ import annotations

import grp
import ipaddress
import os
import pwd
import shutil
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keepalived_py.config.model.vrrp import VrrpInstance
from keepalived_py.config.model.vrrp_types import TrackRef
from keepalived_py.config.values import split_command
from keepalived_py.errors import SourcePos

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

#: an instance's notify script keywords (a sync group has all but the last)
NOTIFY_KEYWORDS = ("notify_backup", "notify_master", "notify_fault", "notify_stop", "notify",
                    "notify_master_rx_lower_pri")
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
IFF_MULTICAST = 0x1000
DEFAULT_MTU = 1500
MCAST4 = ipaddress.ip_address("224.0.0.18")
MCAST6 = ipaddress.ip_address("ff02::12")


# --------------------------------------------------------------------------- host facts
def sys_net(ifname: str, attr: str) -> str | None:
    try:
        with open(f"/sys/class/net/{ifname}/{attr}") as f:
            return f.read().strip()
    except OSError:
        return None


def sys_int(ifname: str, attr: str) -> int | None:
    text = sys_net(ifname, attr)
    try:
        return int(text, 0) if text is not None else None
    except ValueError:
        return None


def read_before(a: SourcePos | None, b: SourcePos | None) -> bool:
    """Whether a block at `a` is read before one at `b` (unknown across files: assume so)."""
    if a is None or b is None or a.file != b.file:
        return True
    return a.line < b.line


def gdef(config: KeepalivedConfig, name: str, default: Any = None) -> Any:
    gd = getattr(config, "global_defs", None)
    value = getattr(gd, name, None) if gd is not None else None
    return default if value is None else value


@dataclass
class Inst:
    """What keepalived has worked out about one instance while checking it."""

    cfg: VrrpInstance
    ifp: str | None = None
    family: int | None = None
    version: int | None = None
    vips: list[Any] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)
    saddr: Any = None
    mcast_dst: Any = None
    vmac: bool = False
    vmac_xmit_base: bool = False
    sync: str | None = None
    unicast: bool = False
    vrf: str | None = None  # the vrf line keepalived's handler kept (vrrp_vrf_handler)


def line_of(item: Any) -> int:
    pos = getattr(item, "pos", None)
    return pos.line if pos is not None else 0


def addr_text(address: Any) -> str:
    """An address as the user most likely wrote it (keepalived echoes the configuration word)."""
    if address.network.prefixlen == address.max_prefixlen:
        return str(address.ip)
    return address.with_prefixlen


def ref_weight(ref: TrackRef, default: int) -> int:
    return ref.weight if ref.weight is not None else default


def user_ok(user_group: tuple[str, ...]) -> bool:
    try:
        pwd.getpwnam(user_group[0])
        if len(user_group) > 1:
            grp.getgrnam(user_group[1])
    except KeyError:
        return False
    return True


def script_state(command: str) -> tuple[bool | None, bool]:
    """(found, insecure) for a script command as check_script_secure() sees it: found is
    True for an existing file, None when the file cannot be found, False for '</file' checks."""
    argv = split_command(command)
    if not argv:
        return None, False
    path = argv[0]
    if path.startswith("<") and path[1:].lstrip(" \t").startswith("/"):
        return False, False
    if "/" not in path:
        resolved = shutil.which(path)
        if resolved is None:
            return None, False
        path = resolved
    try:
        st = os.stat(path)
    except OSError:
        return None, False
    insecure = bool(st.st_uid != 0 or (st.st_mode & stat.S_IWOTH)
                    or (st.st_gid != 0 and st.st_mode & stat.S_IWGRP))
    return True, insecure
