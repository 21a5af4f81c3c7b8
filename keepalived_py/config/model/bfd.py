"""bfd_instance (keepalived.conf(5) 'BFD CONFIGURATION', keepalived/bfd/bfd_parser.c).

Intervals are milliseconds with micro-second resolution, as keepalived reads them. ttl and
hoplimit are one setting (the outgoing IPv4 TTL or IPv6 hop limit); unset, it is 255 for an
IPv4 neighbour and 64 for IPv6. `weight` is the default weight a vrrp instance's track_bfd
uses; `vrrp`/`checker` restrict event notifications to that process (neither: both).
"""

from __future__ import annotations

import ipaddress

from keepalived_py.config import numbers
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.numbers import UINT_MAX
from keepalived_py.config.schema import (
    Model,
    Present,
    ValueType,
    Word,
    head,
    kw,
    model,
)
from keepalived_py.config.values import Decimal, IpAddr, Number, OptBool, say

GE = ConfigErr.GENERAL_ERROR
BFD_INTERVAL_MAX = UINT_MAX // 1000  # ms (keepalived keeps micro-seconds in 32 bits)
BFD_TTL_MAX = 255
BFD_CONTROL_TTL = 255
BFD_CONTROL_HOPLIMIT = 64
BFD_INAME_MAX = 31
BFD_SENSIBLE_MAX = 10000  # ms: larger intervals draw an informational message


def _millis(lo: int) -> Decimal:
    """min_rx / min_tx / idle_tx: ms to 3 places (read_decimal_unsigned_strvec without ignore_error)."""
    return Decimal(lo, BFD_INTERVAL_MAX, digits=3, lenient=False,
                   error=f"Configuration error: BFD instance {{n}} {{kw}} value {{v}} is not valid (must be in "
                         f"range [{lo}-{BFD_INTERVAL_MAX}]), ignoring",
                   large=(BFD_SENSIBLE_MAX + 0.001, "Configuration warning: BFD instance {n} {kw} value {v} is "
                                                    f"larger than max sensible ({BFD_SENSIBLE_MAX})"))


def _number(lo: int, hi: int, what: str) -> Number:
    return Number(lo, hi, error=f"Configuration error: BFD instance {{n}} {what} value {{v}} not valid (must be in "
                                f"range [{lo}-{hi}]), ignoring")


class BfdWeight(ValueType):
    """`weight <-253..253> [reverse]` -> (weight, reverse)."""

    max_args = None

    def parse(self, args, ctx):
        weight = numbers.read_int(args[0], -253, 253).take(ctx)
        if weight is None:
            ctx.warn(say("Configuration error: BFD instance {n} weight value {v} not valid (must be in range "
                         "[-253-253]), ignoring", ctx, v=args[0]), GE)
            weight = 0
        reverse = False
        if len(args) >= 2:
            if args[1] == "reverse":
                reverse = True
            else:
                ctx.warn(say("Configuration error: BFD instance {n} unknown weight option {v}", ctx, v=args[1]), GE)
        return (weight, reverse)

    def format(self, value):
        return [str(value[0])] + (["reverse"] if value[1] else [])


@model
class BfdInstance(Model):
    block_keyword = "bfd_instance"

    name: str = head(Word(), default="")
    neighbor_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = kw(IpAddr(
        "Configuration error: BFD instance {n} has malformed neighbor address {v}, ignoring instance"),
        aliases=("neighbour_ip",))
    source_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = kw(IpAddr(
        "Configuration error: BFD instance {n} has malformed source address {v}, ignoring"))
    min_rx: float = kw(_millis(1), default=10.0)
    min_tx: float = kw(_millis(1), default=10.0)
    idle_tx: float = kw(_millis(1000), default=1000.0)
    multiplier: int = kw(_number(1, 255, "multiplier"), default=5)
    passive: bool = kw(Present(), default=False)
    #: multi-hop BFD (RFC 5883, port 4784); newer than 2.2.7
    multihop: bool = kw(OptBool("Configuration error: BFD instance {n} multihop setting not valid - {v}"),
                        default=False, since="2.2.8")
    # ttl and hoplimit are the same setting; None: 255 (IPv4) / 64 (IPv6)
    ttl: int | None = kw(_number(1, BFD_TTL_MAX, "ttl/hoplimit"), aliases=("hoplimit",))
    # -1 is stored as 255 by keepalived (uint8_t): no hop count checking
    max_hops: int = kw(_number(-1, BFD_TTL_MAX, "max_hops"), default=0)
    weight: tuple[int, bool] = kw(BfdWeight(), default=(0, False))
    vrrp: bool = kw(Present(), default=False)
    checker: bool = kw(Present(), default=False)

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
