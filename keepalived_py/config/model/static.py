"""Top-level blocks beside global_defs: SSL, track_group, linkbeat_interfaces, interface_up_down_delays.

keepalived.conf(5) 'Linkbeat interfaces', 'Static track groups', 'Interface up/down status
change debouncing'; keepalived/vrrp/vrrp_parser.c and keepalived/check/check_parser.c (SSL).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keepalived_py.config import numbers
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.schema import (
    Ctx,
    Entries,
    Model,
    ValueProblem,
    ValueType,
    Word,
    _quote,
    head,
    kw,
    model,
)
from keepalived_py.config.values import Str
from keepalived_py.errors import SourcePos

GE = ConfigErr.GENERAL_ERROR


@model
class SslDefs(Model):
    """`SSL { password P  ca FILE  certificate FILE  key FILE }` for SSL_GET checkers."""

    block_keyword = "SSL"

    password: str | None = kw(Str("SSL password missing"))
    ca: str | None = kw(Str("SSL cafile missing"))
    certificate: str | None = kw(Str("SSL certfile missing"))
    key: str | None = kw(Str("SSL keyfile missing"))


def _track_group_members(value, ctx: Ctx):
    if not value:
        ctx.warn_at_end(f"Warning - track group {ctx.block} has empty group block", GE)
    return value


@model
class TrackGroup(Model):
    """`track_group NAME { group { VI_1 VI_2 } }`: vrrp instances that track static addresses/routes/rules."""

    block_keyword = "track_group"

    name: str = head(Word(), default="")
    group: tuple[str, ...] = kw(Entries(Word()), check=_track_group_members)


# --------------------------------------------------------------------------- linkbeat_interfaces
LINKBEAT_TYPES = ("MII", "ETHTOOL", "IOCTL")


@dataclass(frozen=True, slots=True)
class LinkbeatInterface:
    """One line of linkbeat_interfaces: `IFNAME [MII|ETHTOOL|IOCTL]` (None: MII, else ETHTOOL, else IOCTL)."""

    interface: str
    type: str | None = None
    pos: SourcePos | None = field(default=None, compare=False)


class LinkbeatEntry(ValueType):
    max_args = None

    def parse(self, args, ctx: Ctx) -> LinkbeatInterface:
        kind = None
        if len(args) > 1:
            if args[1] in LINKBEAT_TYPES:
                kind = args[1]
            if kind is None or len(args) > 2:
                ctx.warn(f"extra characters {args[1]} in linkbeat interface", GE)
        return LinkbeatInterface(args[0], kind, ctx.pos)

    def format(self, value: LinkbeatInterface) -> list[str]:
        return [_quote(value.interface)] + ([value.type] if value.type else [])


# --------------------------------------------------------------------------- interface_up_down_delays
MAX_DEBOUNCE = 255.0


@dataclass(frozen=True, slots=True)
class UpDownDelay:
    """One line of interface_up_down_delays: `IFNAME DOWN_DELAY [UP_DELAY]` (seconds, usec resolution).

    keepalived 2.2.7 sets the up delay to 0 when it is omitted (the man page says it
    defaults to the down delay); `up_delay` is None then and `effective_up_delay` is 0.
    """

    interface: str
    down_delay: float
    up_delay: float | None = None
    pos: SourcePos | None = field(default=None, compare=False)

    @property
    def effective_up_delay(self) -> float:
        return 0.0 if self.up_delay is None else self.up_delay


def _delay(text: str, what: str, name: str, ctx: Ctx) -> float:
    """keepalived's read_timer in [0, 255] s; on a bad number it only logs, and drops the line."""
    count = numbers.read_timer(text, 0, round(MAX_DEBOUNCE * numbers.TIMER_HZ)).take(ctx)
    if count is None:
        raise ValueProblem(f"Invalid {what} delay {text} for {name}", ConfigErr.OK)
    return numbers.from_units(count)


class UpDownDelayEntry(ValueType):
    """A line without delays is only logged by keepalived (left out here, with a note)."""

    max_args = None

    def parse(self, args, ctx: Ctx) -> UpDownDelay:
        name = args[0]
        if len(args) < 2:
            raise ValueProblem(f"No timeouts specified for {name} up/down delays", ConfigErr.OK)
        if len(args) > 3:
            ctx.info(f"Too many parameters for {name} up/down delays")
        down = _delay(args[1], "down", name, ctx)
        up = _delay(args[2], "up", name, ctx) if len(args) >= 3 else None
        return UpDownDelay(name, down, up, ctx.pos)

    def format(self, value: UpDownDelay) -> list[str]:
        words = [_quote(value.interface), numbers.format_decimal(value.down_delay)]
        if value.up_delay is not None:
            words.append(numbers.format_decimal(value.up_delay))
        return words
