"""Link state by polling the interface (keepalived's linkbeat, vrrp_if.c), for
`linkbeat_use_polling` and `linkbeat_interfaces`: some drivers never send a netlink
message when the carrier goes, so keepalived can ask the NIC every second instead.

keepalived probes MII registers, else ETHTOOL_GLINK, and in every case then requires the
interface flags to say IFF_UP and IFF_RUNNING (if_ioctl_flags). IFF_RUNNING is the
carrier the kernel reports (netif_carrier_ok), the same bit ETHTOOL_GLINK reads for a
driver without its own get_link, so the flags alone (SIOCGIFFLAGS) give the answer here.
"""

from __future__ import annotations

import fcntl
import socket
import struct

SIOCGIFFLAGS = 0x8913
IFF_UP = 0x1
IFF_RUNNING = 0x40
POLLING_DELAY_S = 1.0  # vrrp_if.h POLLING_DELAY (TIMER_HZ)


def link_running(ifname: str) -> bool:
    """True when `ifname` is up with a carrier; False when not, or gone."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            req = struct.pack("16sH14x", ifname.encode()[:15], 0)
            flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, req))[1]
    except OSError:
        return False
    return flags & (IFF_UP | IFF_RUNNING) == IFF_UP | IFF_RUNNING
