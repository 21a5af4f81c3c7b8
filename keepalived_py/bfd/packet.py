"""BFD Control packet codec (RFC 5880 section 4.1): bytes <-> ControlPacket, pure.

The codec checks what the datagram alone can tell (RFC 5880 section 6.8.6, first
paragraph of checks): length, version, multiplier, multipoint, discriminators, poll and
final together, the diagnostic. Each failure is a DropReason, so the runtime counts drops
by reason instead of logging a line per bogus packet. Checks that need a session (TTL /
hop limit, authentication, AdminDown) are the session's (bfd/demux.py, bfd/session.py).

Intervals on the wire are microseconds (RFC 5880 section 4.1); every field here keeps
that unit and says so in its name.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

VERSION = 1
HEADER_LEN = 24  # mandatory section, bytes
MIN_AUTH_LEN = 2  # auth type + auth len, at least
MAX_PACKET = 255  # the length field is one octet
PORT_SINGLE_HOP = 3784  # RFC 5881 section 4
PORT_MULTI_HOP = 4784  # RFC 5883 section 5
SOURCE_PORT_MIN = 49152  # RFC 5881 section 4
SOURCE_PORT_MAX = 65535

_HEADER = struct.Struct("!BBBBIIIII")


class State(enum.IntEnum):
    """RFC 5880 section 4.1 'Sta' (keepalived's BFD_STATE_STR names)."""

    ADMIN_DOWN = 0
    DOWN = 1
    INIT = 2
    UP = 3

    @property
    def label(self) -> str:
        return ("AdminDown", "Down", "Init", "Up")[self.value]


class Diag(enum.IntEnum):
    """RFC 5880 section 4.1 'Diag' (keepalived's BFD_DIAG_STR texts)."""

    NONE = 0
    EXPIRED = 1
    ECHO_FAILED = 2
    NEIGHBOR_DOWN = 3
    FWD_PLANE_RESET = 4
    PATH_DOWN = 5
    CONCAT_PATH_DOWN = 6
    ADMIN_DOWN = 7
    REVERSE_CONCAT_PATH_DOWN = 8

    @property
    def text(self) -> str:
        return _DIAG_TEXT[self.value]


_DIAG_TEXT = ("No Diagnostic", "Control Detection Time Expired", "Echo Function Failed",
              "Neighbor Signaled Session Down", "Forwarding Plane Reset", "Path Down",
              "Concatenated Path Down", "Administratively Down", "Reverse Concatenated Path Down")


class DropReason(enum.Enum):
    """Why a received datagram was discarded (one counter each in the dumps)."""

    TOO_SHORT = "too short"
    BAD_LENGTH = "length field mismatch"
    BAD_VERSION = "unsupported version"
    ZERO_MULTIPLIER = "zero detection multiplier"
    MULTIPOINT = "multipoint flag set"
    ZERO_MY_DISCR = "zero my discriminator"
    ZERO_YOUR_DISCR = "zero your discriminator while not Down"
    POLL_AND_FINAL = "poll and final both set"
    BAD_DIAG = "invalid diagnostic"
    BAD_AUTH_SECTION = "malformed authentication section"
    NO_SESSION = "no matching session"
    TTL = "ttl/hop limit too low"
    AUTH = "authentication not in use"
    ADMIN_DOWN = "session in AdminDown"
    TRUNCATED = "truncated by the socket"


class DecodeError(ValueError):
    """A datagram that is not a valid BFD Control packet; `reason` says which check."""

    def __init__(self, reason: DropReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}{': ' + detail if detail else ''}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ControlPacket:
    """One BFD Control packet; `auth` is the raw authentication section (type first)."""

    state: State
    my_discr: int
    your_discr: int = 0
    diag: Diag = Diag.NONE
    detect_mult: int = 3
    desired_min_tx_us: int = 1_000_000
    required_min_rx_us: int = 1_000_000
    required_min_echo_rx_us: int = 0
    poll: bool = False
    final: bool = False
    cpi: bool = False  # Control Plane Independent
    demand: bool = False
    multipoint: bool = False
    version: int = VERSION
    auth: bytes = b""

    @property
    def auth_type(self) -> int | None:
        return self.auth[0] if self.auth else None


def encode(pkt: ControlPacket) -> bytes:
    """ControlPacket -> bytes (the length field covers the authentication section)."""
    flags = ((pkt.state & 0x3) << 6 | pkt.poll << 5 | pkt.final << 4 | pkt.cpi << 3
             | bool(pkt.auth) << 2 | pkt.demand << 1 | pkt.multipoint)
    length = HEADER_LEN + len(pkt.auth)
    return _HEADER.pack((pkt.version & 0x7) << 5 | (pkt.diag & 0x1F), flags, pkt.detect_mult, length,
                        pkt.my_discr, pkt.your_discr, pkt.desired_min_tx_us, pkt.required_min_rx_us,
                        pkt.required_min_echo_rx_us) + pkt.auth


def decode(data: bytes) -> ControlPacket:
    """bytes -> ControlPacket, raising DecodeError on the first RFC 5880 6.8.6 check that fails.

    Bytes after the length the packet gives are ignored (RFC 5880 only requires discarding
    a packet whose Length exceeds the payload).
    """
    if len(data) < HEADER_LEN:
        raise DecodeError(DropReason.TOO_SHORT, f"{len(data)} bytes")
    vd, flags, mult, length, my_d, your_d, tx, rx, echo = _HEADER.unpack_from(data)
    version, diag_code = vd >> 5, vd & 0x1F
    if version != VERSION:
        raise DecodeError(DropReason.BAD_VERSION, str(version))
    has_auth = bool(flags & 0x04)
    if length < HEADER_LEN + (MIN_AUTH_LEN if has_auth else 0) or length > len(data):
        raise DecodeError(DropReason.BAD_LENGTH, f"length field {length}, {len(data)} bytes received")
    auth = b""
    if has_auth:
        auth = bytes(data[HEADER_LEN:length])
        if auth[1] < MIN_AUTH_LEN or HEADER_LEN + auth[1] != length:
            raise DecodeError(DropReason.BAD_AUTH_SECTION, f"auth len {auth[1]}, packet length {length}")
    state = State(flags >> 6)
    poll, final = bool(flags & 0x20), bool(flags & 0x10)
    if mult == 0:
        raise DecodeError(DropReason.ZERO_MULTIPLIER)
    if flags & 0x01:
        raise DecodeError(DropReason.MULTIPOINT)
    if my_d == 0:
        raise DecodeError(DropReason.ZERO_MY_DISCR)
    if your_d == 0 and state not in (State.DOWN, State.ADMIN_DOWN):
        raise DecodeError(DropReason.ZERO_YOUR_DISCR, state.label)
    if poll and final:
        raise DecodeError(DropReason.POLL_AND_FINAL)
    if diag_code > max(Diag):
        raise DecodeError(DropReason.BAD_DIAG, str(diag_code))
    return ControlPacket(state=state, my_discr=my_d, your_discr=your_d, diag=Diag(diag_code),
                         detect_mult=mult, desired_min_tx_us=tx, required_min_rx_us=rx,
                         required_min_echo_rx_us=echo, poll=poll, final=final,
                         cpi=bool(flags & 0x08), demand=bool(flags & 0x02), auth=auth)
