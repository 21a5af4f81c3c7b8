"""Value types that several configuration areas share, read as keepalived's handlers read them.

A keepalived handler reads its word with one of lib/parser.c's readers (keepalived_py.config
.numbers), which prints a CONFIG_INVALID_NUMBER text; the handler then reports its own
CONFIG_GENERAL_ERROR text and ignores the keyword, or falls back to a value. `Number` and
`Decimal` do both, for every area; the handler's text is a template with {kw} (the keyword),
{v} (the word) and {n} (the enclosing block's name: "({n}) " and "[{n}]" disappear when there
is none). `OptBool`, `UserGroup` and `GarpExtraIf` are the other types global_defs, the VRRP
blocks and the checkers have in common.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any

from keepalived_py.config import numbers
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.schema import Ctx, Flag, ValueProblem, ValueType, _quote
from keepalived_py.scripts import quoting

GE = ConfigErr.GENERAL_ERROR
#: `fallback` default: a bad value makes the keyword ignored (the field keeps its default)
RAISE: Any = object()
_NAMED = re.compile(r"\(\{n\}\):? |\[\{n\}\]| ?\{n\}")


def say(template: str, ctx: Ctx, **values: Any) -> str:
    """keepalived's message: {n} is the block's name, {kw} the keyword; without a block name,
    '({n}) ', '[{n}]' and ' {n}' go."""
    name = ctx.block
    if not name:
        template = _NAMED.sub("", template)
    return template.format(n=name, kw=ctx.keyword, **values)


class Str(ValueType):
    """One word; later words are ignored (keepalived's strvec_slot(strvec, 1)). `missing` is the
    handler's text when the word is absent (None: keepalived's missing-parameter stop; "":
    only a note); `exact`: more than one word is that error too."""

    max_args = None

    def __init__(self, missing: str | None = None, *, exact: bool = False):
        self.missing = missing
        self.exact = exact
        self.min_args = 0 if missing is not None else 1

    def parse(self, args, ctx):
        if self.exact and len(args) > 1 and self.missing:
            raise ValueProblem(say(self.missing, ctx), GE)
        if not args:
            if not self.missing:
                raise ValueProblem(f"{ctx.keyword} without a value - ignored", ConfigErr.OK)
            raise ValueProblem(say(self.missing, ctx), GE)
        return args[0]

    def format(self, value):
        return [_quote(value)]


def inet_pton(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as inet_pton reads it, the family chosen by a ':' as keepalived does (so no
    IPv6 zone '%eth0', no IPv4 in IPv6 clothing). ValueError if it is not one."""
    # the C library's own inet_pton, as keepalived calls it (and much faster than parsing
    # with ipaddress: a large configuration has one per real server)
    try:
        if ":" in text:
            return ipaddress.IPv6Address(socket.inet_pton(socket.AF_INET6, text))
        return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, text))
    except OSError:
        raise ValueError(text) from None


def inet_stosockaddr(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """keepalived's inet_stosockaddr(): anything from a '-' or '/' on is dropped (ranges and
    masks), the family is IPv6 if there is a ':' anywhere, then inet_pton; None if invalid."""
    cut = min((i for i in (text.find("-"), text.find("/")) if i >= 0), default=len(text))
    try:
        if ":" in text:
            return ipaddress.IPv6Address(socket.inet_pton(socket.AF_INET6, text[:cut]))
        return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, text[:cut]))
    except OSError:
        return None


class IpAddr(ValueType):
    """An IP address as inet_stosockaddr() reads it (every area's single address keywords);
    `multicast`: vrrp_instance's mcast_dst_ip, which must be (link-local) multicast."""

    max_args = None

    def __init__(self, error: str = "{kw}: invalid address '{v}'", multicast: bool = False):
        self.error = error
        self.multicast = multicast

    def parse(self, args, ctx):
        text = args[0]
        addr = inet_stosockaddr(text)
        if addr is None:
            raise ValueProblem(say(self.error, ctx, v=text), GE)
        if self.multicast:
            is_mc = addr.is_multicast if addr.version == 4 else (
                addr.is_multicast and (addr.packed[1] & 0x0F) == 2)
            if not is_mc:
                ll = " link-local" if addr.version == 6 else ""
                raise ValueProblem(say("({n}) mcast_dst_ip {t} not{ll} multicast. Skipping...", ctx, t=text, ll=ll),
                                   GE)
        return addr

    def format(self, value):
        return [str(value)]


class Number(ValueType):
    """A whole number read with read_int (`signed`) or read_unsigned, then the handler's `error`.

    On a bad value the keyword is ignored, or with `fallback` set to what keepalived falls
    back to. `zero` = (value, message) for handlers that accept 0 only to replace it.
    `missing`: the handler's own text for a keyword without its word (else keepalived's
    missing-parameter stop); `exact_args`: the handler wants exactly one word (`missing`,
    else `error`, when not).
    """

    max_args = None

    def __init__(self, lo: int, hi: int, *, signed: bool = False, error: str = "{kw} '{v}' invalid - ignoring",
                 fallback: Any = RAISE, zero: tuple[int, str] | None = None, missing: str | None = None,
                 exact_args: bool = False, base: int = 10):
        self.lo, self.hi, self.signed, self.base = lo, hi, signed or lo < 0, base
        self.error, self.fallback, self.zero = error, fallback, zero
        self.missing, self.exact_args = missing, exact_args
        if missing is not None or exact_args:
            self.min_args = 0

    def read(self, word: str, ctx: Ctx) -> int | None:
        """keepalived's reader alone: the value, or None after its INVALID_NUMBER text."""
        reader = numbers.read_int if self.signed else numbers.read_unsigned
        return reader(word, self.lo, self.hi, self.base).take(ctx)

    def parse(self, args, ctx):
        if len(args) != 1 and (self.exact_args or not args):
            if self.missing is not None:
                raise ValueProblem(say(self.missing, ctx), GE)
            raise ValueProblem(say(self.error, ctx, v=" ".join(args)), GE)
        value = self.read(args[0], ctx)
        if value is None:
            return fail(self.error, self.fallback, args[0], ctx)
        if value == 0 and self.zero is not None:
            ctx.warn(say(self.zero[1], ctx), GE)
            return self.zero[0]
        return value

    def format(self, value):
        return [str(value)]


class Decimal(ValueType):
    """A decimal with `digits` places (read_decimal_unsigned_strvec; read_timer when digits is 6):
    seconds, or milliseconds for BFD. `lo`/`hi` are in the same unit (hi None: TIMER_MAXIMUM
    micro-seconds); `lenient` is keepalived's ignore_error, which keeps the leading digits of
    an invalid word when in range; `large` = (threshold, info text) for "is very large" notes."""

    max_args = None

    def __init__(self, lo: float, hi: float | None = None, *, digits: int = numbers.TIMER_HZ_DIGITS,
                 error: str = "{kw} '{v}' is invalid", fallback: Any = RAISE, lenient: bool = True,
                 large: tuple[float, str] | None = None):
        self.lo, self.hi, self.digits = lo, hi, digits
        self.error, self.fallback, self.lenient, self.large = error, fallback, lenient, large

    def parse(self, args, ctx):
        hi = numbers.units(self.hi, self.digits) if self.hi is not None else numbers.TIMER_MAXIMUM
        count = numbers.read_decimal(args[0], numbers.units(self.lo, self.digits), hi, self.digits,
                                     self.lenient).take(ctx)
        if count is None:
            return fail(self.error, self.fallback, args[0], ctx)
        value = numbers.from_units(count, self.digits)
        if self.large is not None and value >= self.large[0]:
            ctx.info(say(self.large[1], ctx, v=args[0]))
        return value

    def format(self, value):
        return [numbers.format_decimal(value, self.digits)]


def fail(error: str, fallback: Any, word: str, ctx: Ctx) -> Any:
    """The handler's message for a value its reader refused: ignore the keyword, or fall back."""
    message = say(error, ctx, v=word)
    if fallback is RAISE:
        raise ValueProblem(message, GE)
    ctx.warn(message, GE)
    return fallback


class OptChoice(ValueType):
    """`keyword [WORD]`: alone means `default`, else one of `choices`; another word is the
    handler's `error` (the keyword ignored), or with `fallback` a warning and that value."""

    min_args = 0
    max_args = None

    def __init__(self, default: Any, *choices: str, error: str, fallback: Any = RAISE):
        self.default, self.choices, self.error, self.fallback = default, choices, error, fallback

    def parse(self, args, ctx):
        if not args:
            return self.default
        if args[0] in self.choices:
            return args[0]
        return fail(self.error, self.fallback, args[0], ctx)

    def format(self, value):
        return [] if value == self.default else [value]


class OptBool(Flag):
    """`keyword [<BOOL>]` with the handler's own message for a word that is not a <BOOL>
    (keepalived ignores words after it)."""

    max_args = None

    def __init__(self, error: str = Flag.error):
        self.error = error

    def invalid(self, word: str, ctx: Ctx) -> str:
        return say(self.error, ctx, v=word)


class UserGroup(ValueType):
    """`user USERNAME [GROUPNAME]` -> (user[, group]); words after the group are ignored.

    `required`: a `user` alone is keepalived's missing-parameter stop; otherwise it is () and
    the block's check reports it with the script's name (MISC_CHECK)."""

    max_args = None

    def __init__(self, required: bool = True):
        self.required = required
        self.min_args = 1 if required else 0

    def parse(self, args, ctx):
        return tuple(args[:2])

    def format(self, value):
        return [_quote(w) for w in value]


@dataclass(frozen=True, slots=True)
class GarpExtraIf:
    """`garp_extra_if [all] SECONDS` (vrrp_instance, 0 disables) and global_defs'
    `vrrp_garp_extra_if` (1 second at least)."""

    interval: int
    all: bool = False


class GarpExtraIfType(ValueType):
    """keepalived reads every word: 'all', or the delay (read_unsigned in [lo, 86400])."""

    min_args = 0
    max_args = None

    def __init__(self, lo: int):
        self.lo = lo

    def parse(self, args, ctx):
        use_all = False
        interval = None
        for word in args:
            if word == "all":
                use_all = True
                continue
            value = numbers.read_unsigned(word, self.lo, 86400).take(ctx)
            if value is None:
                raise ValueProblem(say("({n}): {kw} '{w}' invalid - ignoring", ctx, w=word), GE)
            interval = value
        if interval is None:
            raise ValueProblem(say("({n}): {kw} specified without time - ignoring", ctx), GE)
        return GarpExtraIf(interval, use_all)

    def format(self, value: GarpExtraIf):
        return (["all"] if value.all else []) + [str(value.interval)]


# --------------------------------------------------------------------------- scripts
# keepalived reads every script line with notify_script_init (VRRP notify_*, global
# startup/shutdown and FIFO scripts, LVS notify_up/down ...): the same types serve them all.
@dataclass(frozen=True, slots=True)
class NotifyScript:
    """A notify script: the command (one word, split by keepalived's quoting rules when run)
    and the optional user and group to run it as."""

    command: str
    user: str | None = None
    group: str | None = None

    @property
    def argv(self) -> list[str]:
        return split_command(self.command)


class NotifyScriptType(ValueType):
    """`notify_x <STRING>|<QUOTED-STRING> [username [groupname]]`; `missing`: the handler's own
    text for a keyword without its script."""

    max_args = None
    reads_raw = True

    def __init__(self, missing: str | None = None):
        self.missing = missing
        if missing is not None:
            self.min_args = 0

    def parse(self, args, ctx):
        words = script_words(args, ctx)[1:]
        if not words:
            raise ValueProblem(say(self.missing or "{kw}: no script given", ctx), GE)
        user = words[1] if len(words) > 1 else None
        group = words[2] if len(words) > 2 else None
        if len(words) > 3:
            ctx.info(f"{ctx.keyword}: extra parameters {' '.join(words[3:])} ignored")
        return NotifyScript(words[0], user, group)

    def format(self, value):
        return [quote_script(value.command), *owner_words(value.user, value.group)]


class ScriptCommand(ValueType):
    """vrrp_script `script`: keepalived takes the first (possibly quoted) word as the command line."""

    max_args = None
    reads_raw = True

    def parse(self, args, ctx):
        words = script_words(args, ctx)[1:]
        if not words:
            raise ValueProblem(f"{ctx.keyword}: no script given")
        if len(words) > 1:
            ctx.info(f"{ctx.keyword}: words after the command are ignored "
                     f"(quote the whole command line): {' '.join(words[1:])}")
        return words[0]

    def format(self, value):
        return [quote_script(value)]


def split_command(command: str) -> list[str]:
    """A script's argv, as set_script_params_array() splits its command word ([] if it cannot)."""
    return quoting.split_command(command) or []


def script_words(args, ctx: Ctx) -> list[str]:
    """The words of a script line as keepalived reads them: the raw line again, with both kinds
    of quotes and backslash escapes (alloc_strvec_quoted_escaped), keyword first."""
    if not ctx.raw:
        return [ctx.keyword, *args]
    try:
        return quoting.split_command_strict(ctx.raw)
    except quoting.QuotingError as exc:
        raise ValueProblem(f"String '{ctx.raw}': missing terminating {exc.missing}",
                           ConfigErr.UNMATCHED_QUOTE) from None


def quote_script(command: str) -> str:
    """A command word that both keepalived's line reader and its quoted splitting give back unchanged."""
    if command and not any(c in command for c in " \t{}!#\"'\\"):
        return command
    return '"' + command.replace("\\", "\\\\").replace('"', '\\"') + '"'


def owner_words(user: str | None, group: str | None) -> list[str]:
    """The optional `[username [groupname]]` words after a script or FIFO name."""
    if user is None:
        return []
    return [_quote(user)] + ([_quote(group)] if group is not None else [])
