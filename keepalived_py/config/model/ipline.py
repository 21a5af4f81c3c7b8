"""The words of an `ip address/route/rule`-style line: addresses, prefixes, a word cursor.

Shared by the address, route and rule entries (addresses.py, routes.py, rules.py); the
rules follow keepalived 2.2.7's parse_ipaddress() and parse_route().
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.iproute2 import rt_lookup
from keepalived_py.config.numbers import UINT_MAX, read_unsigned, read_unsigned64
from keepalived_py.config.schema import Ctx, ValueProblem

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

GE = ConfigErr.GENERAL_ERROR
U32_MAX = 0xFFFFFFFF
U64_MAX = 2**64 - 1
#: destinations that match every address of either family
SPECIAL_DST = ("default", "any", "all")


def unsigned(text: str, hi: int, ctx: Ctx | None, base: int = 10) -> int | None:
    """keepalived's read_unsigned (read_unsigned64 above 32 bits) from 0 to `hi`; None when it
    fails, after reporting its INVALID_NUMBER text to `ctx` (as keepalived's get_u32 & co do)."""
    reader = read_unsigned64 if hi > UINT_MAX else read_unsigned
    return reader(text, 0, hi, base).take(ctx)


def parse_ip(text: str, allow_prefix: bool, ctx: Ctx | None) -> IPInterface:
    """keepalived's parse_ipaddress: family from ':', prefix optional (bad prefix -> host length)."""
    v6 = ":" in text
    maxlen = 128 if v6 else 32
    addr_text, prefix = text, maxlen
    if allow_prefix and "/" in text:
        addr_text, plen = text.split("/", 1)
        value = unsigned(plen, maxlen, ctx)
        if value is None:
            if ctx is not None:
                ctx.warn(f"Invalid address prefix len {plen} for address {text} - using {maxlen}", GE)
        else:
            prefix = value
    try:
        addr = ipaddress.IPv6Address(addr_text) if v6 else ipaddress.IPv4Address(addr_text)
    except ValueError:
        raise ValueProblem(f"VRRP parsed invalid IP {text}. skipping IP...") from None
    return ipaddress.ip_interface((addr, prefix))


def plain_ip(text: str, ctx: Ctx | None = None) -> IPAddress | None:
    """An address without prefix, or None after reporting keepalived's "VRRP parsed invalid IP"
    to `ctx` (parse_ipaddress() reports it before its caller's own message)."""
    try:
        return parse_ip(text, False, None).ip
    except ValueProblem as problem:
        if ctx is not None:
            ctx.warn(str(problem), GE)
        return None


def parse_prefix(text: str, ctx: Ctx | None = None) -> tuple[str, int | None] | None:
    """keepalived's parse_route: 'default'/'any'/'all' (any family) or ADDR[/LEN]; (canonical, family).

    A bad prefix length is reported and replaced by the host length; a bad address is
    reported ("VRRP parsed invalid IP") and gives None, as keepalived does before its
    caller's own message."""
    if text in SPECIAL_DST:
        return text, None
    if text == "default6":
        return "default", 6
    try:
        iface = parse_ip(text, True, ctx)
    except ValueProblem as problem:
        if ctx is not None:
            ctx.warn(str(problem), GE)
        return None
    return iface.with_prefixlen, iface.version


def family_of(prefix: str | None) -> int | None:
    """4 or 6 for ADDR/LEN, None for nothing or a destination of any family."""
    if prefix is None or prefix in SPECIAL_DST:
        return None
    return 6 if ":" in prefix else 4


def prefix_parts(prefix: str) -> tuple[IPAddress | None, int]:
    """(network address, length) of a canonical prefix; (None, 0) for default/any/all."""
    if prefix in SPECIAL_DST:
        return None, 0
    net = ipaddress.ip_interface(prefix)
    return net.ip, net.network.prefixlen


def check_family(current: int | None, new: int | None, message: str) -> int | None:
    """The family a line has settled on after a word of family `new` (None: any)."""
    if new is None:
        return current
    if current is not None and current != new:
        raise ValueProblem(message)
    return new


class Words:
    """A cursor over a line's words with keepalived's 'missing parameter' rule."""

    def __init__(self, args: Sequence[str], ctx: Ctx):
        self.args = list(args)
        self.i = 0
        self.ctx = ctx

    def more(self) -> bool:
        return self.i < len(self.args)

    def peek(self) -> str:
        return self.args[self.i]

    def take(self) -> str:
        if self.i >= len(self.args):
            # keepalived's strvec_slot() on a missing word: it stops reading the configuration
            raise ValueProblem(f"*** Configuration line starting `{self.args[0]}` is missing a parameter "
                               f"after keyword `{self.args[-1]}` at word position {self.i + 1}",
                               ConfigErr.MISSING_PARAMETER)
        word = self.args[self.i]
        self.i += 1
        return word

    def number(self, hi: int, message: str) -> int:
        """The next word as an unsigned number up to `hi`; else `message` % word."""
        text = self.take()
        value = unsigned(text, hi, self.ctx)
        if value is None:
            raise ValueProblem(message % text)
        return value

    def named(self, table: str, message: str) -> int:
        """The next word, which must name an entry of an iproute2 table (rt_tables, rt_protos ...),
        resolved to its number; else keepalived's `message` ({text}: the word)."""
        text = self.take()
        value = rt_lookup(table, text)
        if value is None:
            raise ValueProblem(message.format(text=text))
        return value


class Line:
    """What one route or rule line has settled so far; the option handlers of route_entry.py and
    rules.py update it (`values` become the model's fields)."""

    def __init__(self, words: Words):
        self.words = words
        self.ctx = words.ctx
        self.values: dict[str, object] = {}
        self.family: int | None = None  # settled by the words so far
        self.explicit: int | None = None  # given by inet/inet6 (or default6)
        self.done = False  # keepalived stops reading the line here

    def read(self, options: Mapping[str, Callable[[Any, str], None]], other: Callable[[Any, str], None],
             static: bool) -> None:
        """Hand each word to its option's handler (`other` takes a word that is no option), as
        keepalived's loop over the line does; `track_group` is an option of static lines only."""
        while self.words.more() and not self.done:
            word = self.words.take()
            if word == "track_group" and static:
                track_group(self, word)
            else:
                options.get(word, other)(self, word)


def inet(what: str) -> Callable[[Line, str], None]:
    """The handler of `inet` / `inet6` on a `what` ("route", "rule") line."""

    def handler(line: Line, word: str) -> None:
        fam = 6 if word == "inet6" else 4
        if line.family is not None and line.family != fam:
            raise ValueProblem(f"{word} specified for IPv{10 - fam} {what}")
        line.family = line.explicit = fam
        if line.words.more():  # keepalived 2.2.7 steps over the word after inet/inet6
            line.words.take()

    return handler


def track_group(line: Line, word: str) -> None:
    """`track_group NAME` of a static route or rule; a second one ends the line."""
    text = line.words.take()
    if "track_group" in line.values:
        line.ctx.warn(f"track_group {text} is a duplicate", GE)
        line.done = True
        return
    line.values["track_group"] = text
