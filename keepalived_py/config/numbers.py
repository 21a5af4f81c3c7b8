"""keepalived's numbers: one reader for every configuration area, with keepalived 2.2.7's rules.

keepalived reads numbers in lib/parser.c: read_int_func (strtol), read_unsigned_func and
read_unsigned64_func (strtoul/strtoull after skipping blanks, refusing a '-'), and
read_decimal_unsigned_long_func (a fixed-point decimal, used by read_timer and
read_decimal_unsigned_strvec). Each reports a CONFIG_INVALID_NUMBER text ("invalid number
'x'", "number 'x' outside range [lo, hi]" ...) and returns false; the keyword's handler then
adds its own message. The readers here return a `Reading`: the value keepalived ends up with
(None when its reader returns false) and the INVALID_NUMBER texts it printed on the way.

Semantics are those of `keepalived -t` (CONFIG_TEST set): "WARNING - " prefixes and the
acceptance of a bad whole number with `ignore_error` only happen without -t, so they do not
here. The decimal reader is the exception keepalived makes itself: with `ignore_error`
(`lenient` here) it keeps a value whose text was invalid but whose leading digits are in
range, even under -t (e.g. a `delay_loop 10s` is 10 micro-seconds, with the message).

The C library layer (`strtol`, `strtoul`) is exposed for areas that call it directly, as
keepalived's iproute2 name tables do (base 0: 0x.. hex, 0.. octal).

Pure: no I/O. `Reading.take(ctx)` reports through anything with keepalived's `warn`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from keepalived_py.config.diagnostics import ConfigErr

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
UINT_MAX = 2**32 - 1
LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1
ULONG_MAX = 2**64 - 1
#: keepalived keeps timers in micro-seconds
TIMER_HZ = 1_000_000
TIMER_HZ_DIGITS = 6
#: read_timer's maximum when its caller gives 0 (ULONG_MAX - 1)
TIMER_MAXIMUM = ULONG_MAX - 1

#: C's isspace() in the "C" locale: what strtol and friends skip
_C_SPACE = " \t\n\v\f\r"
#: keepalived's WHITE_SPACE, skipped before read_unsigned looks for a '-'
WHITE_SPACE = " \t\f\n\r\v"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class Reporter(Protocol):
    """Where INVALID_NUMBER texts go (the schema's Ctx)."""

    def warn(self, message: str, code: ConfigErr = ...) -> None: ...


@dataclass(frozen=True, slots=True)
class Reading:
    """What one of keepalived's readers made of a word: the value it keeps (None: it returned
    false, the handler then reports and ignores or falls back) and its INVALID_NUMBER texts."""

    value: int | None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.value is not None

    def take(self, ctx: Reporter | None) -> int | None:
        """The value, after reporting keepalived's INVALID_NUMBER texts to `ctx`."""
        if ctx is not None:
            for problem in self.problems:
                ctx.warn(problem, ConfigErr.INVALID_NUMBER)
        return self.value


# --------------------------------------------------------------------------- the C library
@dataclass(frozen=True, slots=True)
class CNumber:
    """The result of C's strtol/strtoul: the value, what `endptr` points at, and ERANGE."""

    value: int
    rest: str
    erange: bool = False


def _scan(text: str, base: int) -> tuple[int, str, bool, bool]:
    """(magnitude, rest, negative, converted) as the C library scans a number."""
    if text.isdigit() and text.isascii() and (base == 10 or base == 0 and text[0] != "0"):
        return int(text), "", False, True  # plain decimal digits, most numbers of a configuration
    i = 0
    n = len(text)
    while i < n and text[i] in _C_SPACE:
        i += 1
    negative = False
    if i < n and text[i] in "+-":
        negative = text[i] == "-"
        i += 1
    if base in (0, 16) and text[i:i + 2].lower() == "0x" and i + 2 < n and text[i + 2].lower() in _DIGITS[:16]:
        i += 2
        base = 16
    elif base == 0:
        base = 8 if text[i:i + 1] == "0" else 10
    allowed = _DIGITS[:base]
    start = i
    while i < n and text[i].lower() in allowed:
        i += 1
    if i == start:
        return 0, text, False, False  # no conversion: endptr is the string itself
    return int(text[start:i], base), text[i:], negative, True


def strtol(text: str, base: int = 10) -> CNumber:
    """C strtol on a 64-bit long: leading blanks, a sign, base 0 detection, clamping with ERANGE."""
    magnitude, rest, negative, _ = _scan(text, base)
    value = -magnitude if negative else magnitude
    if value > LONG_MAX:
        return CNumber(LONG_MAX, rest, True)
    if value < LONG_MIN:
        return CNumber(LONG_MIN, rest, True)
    return CNumber(value, rest)


def strtoul(text: str, base: int = 10) -> CNumber:
    """C strtoul (= strtoull on 64 bits): a '-' negates modulo 2**64, too large is ULONG_MAX and ERANGE."""
    magnitude, rest, negative, _ = _scan(text, base)
    if magnitude > ULONG_MAX:
        return CNumber(ULONG_MAX, rest, True)
    return CNumber((-magnitude) % (ULONG_MAX + 1) if negative else magnitude, rest)


def ulong_word(text: str, base: int = 0) -> int | None:
    """A whole word read by strtoul, as keepalived checks `*endptr == '\\0'` (base 0 by default:
    0x.. hex, 0.. octal): None when no digits, anything after them, or a '-'. Saturates at
    ULONG_MAX as C does."""
    magnitude, rest, negative, converted = _scan(text, base)
    if not converted or rest or negative:
        return None
    return min(magnitude, ULONG_MAX)


# --------------------------------------------------------------------------- keepalived's readers
def read_int(text: str, lo: int = INT_MIN, hi: int = INT_MAX, base: int = 10) -> Reading:
    """read_int_func: strtol, then 'invalid number', 'outside integer range', 'outside range'."""
    c = strtol(text, base)
    if c.rest:
        return Reading(None, (f"invalid number '{text}'",))
    if c.erange or not INT_MIN <= c.value <= INT_MAX:
        return Reading(None, (f"number '{text}' outside integer range",))
    if not lo <= c.value <= hi:
        return Reading(None, (f"number '{text}' outside range [{lo}, {hi}]",))
    return Reading(c.value)


def read_unsigned(text: str, lo: int = 0, hi: int = UINT_MAX, base: int = 10) -> Reading:
    """read_unsigned_func: blanks skipped, a '-' refused, strtoul, then the 32-bit and caller's range."""
    return _unsigned(text, lo, hi, base, UINT_MAX, "unsigned integer range")


def read_unsigned64(text: str, lo: int = 0, hi: int = ULONG_MAX, base: int = 10) -> Reading:
    """read_unsigned64_func: as read_unsigned with 64 bits."""
    return _unsigned(text, lo, hi, base, ULONG_MAX, "unsigned 64 bit range")


def _unsigned(text: str, lo: int, hi: int, base: int, limit: int, limit_name: str) -> Reading:
    if text.lstrip(WHITE_SPACE).startswith("-"):
        return Reading(None, (f"negative number '{text}'",))
    c = strtoul(text.lstrip(WHITE_SPACE), base)
    if c.rest:
        return Reading(None, (f"invalid number '{text}'",))
    if c.erange or c.value > limit:
        return Reading(None, (f"number '{text}' outside {limit_name}",))
    if not lo <= c.value <= hi:
        return Reading(None, (f"number '{text}' outside range [{lo}, {hi}]",))
    return Reading(c.value)


def read_decimal(text: str, lo: int, hi: int, digits: int, lenient: bool = False) -> Reading:
    """read_decimal_unsigned_long_func: `text` with up to `digits` decimal places, as an integer
    count of 10**-digits (lo and hi in those units too).

    As keepalived: a leading '-' is refused (blanks before it are not skipped, strtoull then
    wraps the value); more places than `digits` are reported, rounded on the next character
    ('5' and above, compared as characters) and the rest dropped unread; `lenient` is
    keepalived's ignore_error, which keeps an invalid text's leading digits when in range.
    """
    if text.startswith("-"):
        return Reading(None, (f"negative number '{text}'",))
    problems: list[str] = []
    whole, dot, frac = text.partition(".")
    round_up = False
    if dot and len(frac) > digits:
        problems.append(f"number '{text}' has too many decimal places")
        round_up = frac[digits] >= "5"
        frac = frac[:digits]
    c = strtoul(whole + frac + "0" * (digits - len(frac)), 10)
    value = c.value + 1 if round_up else c.value
    scale = 10**digits
    if c.rest:
        problems.append(f"invalid number '{text}'")
    elif c.erange:
        return Reading(None, (*problems, f"number '{text}' outside unsigned decimal range"))
    elif not lo <= value <= hi:
        def bound(v: int) -> str:  # C's "%lu.%*.*lu": no places print no fraction ("[0., 960000.]")
            return f"{v // scale}." + (f"{v % scale:0{digits}d}" if digits else "")
        problems.append(f"number '{text}' outside range [{bound(lo)}, {bound(hi)}]")
    else:
        return Reading(value, tuple(problems))
    keep = lenient and lo <= value <= hi
    return Reading(value if keep else None, tuple(problems))


def read_timer(text: str, lo_us: int = 0, hi_us: int = 0, lenient: bool = True) -> Reading:
    """read_timer: seconds with micro-second resolution, as micro-seconds; `hi_us` 0 means
    TIMER_MAXIMUM. keepalived's callers all pass ignore_error (`lenient`)."""
    return read_decimal(text, lo_us, hi_us or TIMER_MAXIMUM, TIMER_HZ_DIGITS, lenient)


# --------------------------------------------------------------------------- units and text
def units(value: float, digits: int = TIMER_HZ_DIGITS) -> int:
    """A value in seconds (or ms ...) as a count of 10**-digits, rounded."""
    return round(value * 10**digits)


def from_units(count: int, digits: int = TIMER_HZ_DIGITS) -> float:
    """A count of 10**-digits as a float, exact to `digits` places."""
    return round(count / 10**digits, digits)


def format_decimal(value: float, digits: int = TIMER_HZ_DIGITS) -> str:
    """A decimal as the shortest text that reads back to the same count of 10**-digits."""
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") or "0"


__all__ = [
    "CNumber", "INT_MAX", "INT_MIN", "LONG_MAX", "LONG_MIN", "Reading", "TIMER_HZ", "TIMER_HZ_DIGITS",
    "TIMER_MAXIMUM", "UINT_MAX", "ULONG_MAX", "format_decimal", "from_units", "read_decimal", "read_int",
    "read_timer", "read_unsigned", "read_unsigned64", "strtol", "strtoul", "ulong_word", "units",
]
