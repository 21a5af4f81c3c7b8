"""bfd_instance (keepalived.conf(5) 'BFD CONFIGURATION', keepalived/bfd/bfd_parser.c).

Intervals are milliseconds with micro-second resolution, as keepalived reads them. ttl and
hoplimit are one setting (the outgoing IPv4 TTL or IPv6 hop limit); unset, it is 255 for an
IPv4 neighbour and 64 for IPv6. `weight` is the default weight a vrrp instance's track_bfd
uses; `vrrp`/`checker` restrict event notifications to that process (neither: both).
"""

from __future__ import annotations

import ipaddress

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.schema import Model, ValueProblem, ValueType, Word, head, kw, model

GE = ConfigErr.GENERAL_ERROR
UINT_MAX = 0xFFFFFFFF
BFD_INTERVAL_MAX = UINT_MAX // 1000  # ms (keepalived keeps micro-seconds in 32 bits)
BFD_TTL_MAX = 255
BFD_CONTROL_TTL = 255
BFD_CONTROL_HOPLIMIT = 64
BFD_INAME_MAX = 31
BFD_SENSIBLE_MAX = 10000  # ms: larger intervals draw an informational message


class BfdAddress(ValueType):
    """neighbor_ip / source_ip: an IPv4 or IPv6 address (inet_stosockaddr)."""

    max_args = None

    def parse(self, args, ctx):
        text = args[0]
        try:
            return ipaddress.ip_address(text)
        except ValueError:
            if ctx.keyword == "source_ip":
                raise ValueProblem(f"Configuration error: BFD instance has malformed source address {text}, "
                                   "ignoring", GE) from None
            neighbour = "neighbour" if ctx.keyword == "neighbour_ip" else "neighbor"
            raise ValueProblem(f"Configuration error: BFD instance has malformed {neighbour} address {text}, "
                               "ignoring instance", GE) from None

    def format(self, value):
        return [str(value)]


class Millis(ValueType):
    """An interval in ms with up to 3 decimals (micro-seconds), in [lo, BFD_INTERVAL_MAX]."""

    max_args = None

    def __init__(self, lo: int):
        self.lo = lo

    def parse(self, args, ctx):
        text = args[0]
        body = text.strip()
        problem = ValueProblem(f"Configuration error: BFD instance {ctx.keyword} value {text} is not valid "
                               f"(must be in range [{self.lo}-{BFD_INTERVAL_MAX}]), ignoring", GE)
        if not body or body[0] in "+-" or not body.replace(".", "", 1).isdigit():
            raise problem
        if "." in body and len(body.split(".", 1)[1]) > 3:
            ctx.warn(f"number '{text}' has too many decimal places", ConfigErr.INVALID_NUMBER)
            raise problem
        value = float(body)
        if value < self.lo or value > BFD_INTERVAL_MAX:
            raise problem
        if value > BFD_SENSIBLE_MAX:
            ctx.info(f"Configuration warning: BFD instance {ctx.keyword} value {text} is larger than max "
                     f"sensible ({BFD_SENSIBLE_MAX})")
        return value

    def format(self, value):
        return [(f"{value:.3f}".rstrip("0").rstrip(".")) or "0"]


class BfdInt(ValueType):
    max_args = None

    def __init__(self, lo: int, hi: int, what: str, signed: bool = False):
        self.lo, self.hi, self.what, self.signed = lo, hi, what, signed

    def parse(self, args, ctx):
        text = args[0].lstrip(" \t")
        try:
            if not self.signed and text.startswith("-"):
                raise ValueError
            value = int(text, 10)
        except ValueError:
            value = None
        if value is None or not self.lo <= value <= self.hi:
            raise ValueProblem(f"Configuration error: BFD instance {self.what} value {args[0]} not valid "
                               f"(must be in range [{self.lo}-{self.hi}]), ignoring", GE)
        return value

    def format(self, value):
        return [str(value)]


class BfdWeight(ValueType):
    """`weight <-253..253> [reverse]` -> (weight, reverse)."""

    max_args = None

    def parse(self, args, ctx):
        text = args[0].lstrip(" \t")
        weight = 0
        try:
            value = int(text, 10)
        except ValueError:
            value = None
        if value is None or not -253 <= value <= 253:
            ctx.warn(f"Configuration error: BFD instance weight value {args[0]} not valid (must be in range "
                     "[-253-253]), ignoring", GE)
        else:
            weight = value
        reverse = False
        if len(args) >= 2:
            if args[1] == "reverse":
                reverse = True
            else:
                ctx.warn(f"Configuration error: BFD instance unknown weight option {args[1]}", GE)
        return (weight, reverse)

    def format(self, value):
        return [str(value[0])] + (["reverse"] if value[1] else [])


class Flag0(ValueType):
    """A keyword alone (keepalived ignores words after it)."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        return True

    def format(self, value):
        return []


@model
class BfdInstance(Model):
    block_keyword = "bfd_instance"

    name: str = head(Word(), default="")
    neighbor_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = kw(BfdAddress(), aliases=("neighbour_ip",))
    source_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = kw(BfdAddress())
    min_rx: float = kw(Millis(1), default=10.0)
    min_tx: float = kw(Millis(1), default=10.0)
    idle_tx: float = kw(Millis(1000), default=1000.0)
    multiplier: int = kw(BfdInt(1, 255, "multiplier"), default=5)
    passive: bool = kw(Flag0(), default=False)
    # ttl and hoplimit are the same setting; None: 255 (IPv4) / 64 (IPv6)
    ttl: int | None = kw(BfdInt(1, BFD_TTL_MAX, "ttl/hoplimit"), aliases=("hoplimit",))
    # -1 is stored as 255 by keepalived (uint8_t): no hop count checking
    max_hops: int = kw(BfdInt(-1, BFD_TTL_MAX, "max_hops", signed=True), default=0)
    weight: tuple[int, bool] = kw(BfdWeight(), default=(0, False))
    vrrp: bool = kw(Flag0(), default=False)
    checker: bool = kw(Flag0(), default=False)

    @property
    def effective_ttl(self) -> int:
        if self.ttl is not None:
            return self.ttl
        if self.neighbor_ip is not None and self.neighbor_ip.version == 6:
            return BFD_CONTROL_HOPLIMIT
        return BFD_CONTROL_TTL

    @property
    def notify_vrrp(self) -> bool:
        return self.vrrp or not self.checker

    @property
    def notify_checker(self) -> bool:
        return self.checker or not self.vrrp
