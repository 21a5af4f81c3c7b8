"""Health checkers of a real_server (keepalived.conf(5): TCP_CHECK, HTTP_GET, ... BFD_CHECK).

Keywords are those keepalived 2.2.7 installs (keepalived/check/check_api.c and check_*.c).
Settings a checker inherits from its real_server / virtual_server when unset (retry,
delay_loop, connect_timeout, warmup, delay_before_retry, alpha) default to None here; the
values keepalived falls back to are in `CHECKER_DEFAULTS` and the `effective_*` helpers of
keepalived_py.config.model.lvs.
"""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass

from keepalived_py.config import numbers
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.newer_types import SniName
from keepalived_py.config.numbers import INT_MAX, TIMER_HZ, UINT_MAX
from keepalived_py.config.schema import (
    Choice,
    Ctx,
    Model,
    Nested,
    Present,
    Text,
    ValueProblem,
    ValueType,
    Word,
    kw,
    model,
)
from keepalived_py.config.values import (
    Decimal,
    IpAddr,
    Number,
    OptBool,
    ScriptCommand,
    Str,
    UserGroup,
)

#: IPVS_WEIGHT_LIMIT (INT_MAX)
WEIGHT_LIMIT = INT_MAX


# --------------------------------------------------------------------------- value types
class MsgChoice(Choice):
    """Choice with keepalived's own message for a word it does not know."""

    max_args = None

    def __init__(self, *choices: str, message: str, aliases: dict[str, str] | None = None, case: bool = True):
        super().__init__(*choices, aliases=aliases, case=case)
        self.message = message

    def parse(self, args, ctx):
        try:
            return super().parse(args, ctx)
        except ValueProblem:
            raise ValueProblem(self.message.format(kw=ctx.keyword, v=args[0])) from None


class WithMissing(ValueType):
    """A value type whose keyword, given without a value, draws keepalived's own message (and error
    class) instead of the parser's generic missing-parameter one (which makes keepalived stop)."""

    def __init__(self, inner: ValueType, message: str, code: ConfigErr = ConfigErr.GENERAL_ERROR):
        self.inner = inner
        self.message = message
        self.code = code
        self.min_args = inner.min_args
        self.max_args = inner.max_args

    def check_arity(self, args, ctx):
        if not args:
            raise ValueProblem(self.message, self.code)
        self.inner.check_arity(args, ctx)

    def parse(self, args, ctx):
        return self.inner.parse(args, ctx)

    def format(self, value):
        return self.inner.format(value)


class Digest(ValueType):
    """An MD5 digest: 32 hex digits (kept in lower case)."""

    max_args = None

    def parse(self, args, ctx):
        text = args[0]
        if len(text) != 32:
            raise ValueProblem(f"digest '{text}' character length should be 32 rather than {len(text)}")
        if any(c not in string.hexdigits for c in text):
            bad = next(i for i, c in enumerate(text) if c not in string.hexdigits)
            raise ValueProblem(f"Unable to interpret hex digit in '{text}' at offset {bad - bad % 2}/{bad - bad % 2 + 1}")
        return text.lower()

    def format(self, value):
        return [value]


class StatusCodes(ValueType):
    """status_code 200 or 200-299 400-499 ...: a tuple of (low, high) ranges in 100..599."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        ranges: list[tuple[int, int]] = []
        for word in args:
            # keepalived: strtoul for the low end, again after a '-' for the high end (into unsigned)
            low = numbers.strtoul(word)
            high = numbers.strtoul(low.rest[1:]) if low.rest[:1] == "-" else low
            lo, hi = low.value & UINT_MAX, high.value & UINT_MAX
            if high.rest or not (100 <= lo <= 599 and 100 <= hi <= 599 and lo <= hi):
                ctx.warn(f"Invalid HTTP_GET status code '{word}'", ConfigErr.GENERAL_ERROR)
                continue
            ranges.append((lo, hi))
        return tuple(ranges)

    def format(self, value):
        return [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in value]


REGEX_OPTIONS = (
    "allow_empty_class", "alt_bsux", "auto_callout", "caseless", "dollar_endonly", "dotall", "dupnames",
    "extended", "firstline", "match_unset_backref", "multiline", "never_ucp", "never_utf", "no_auto_capture",
    "no_auto_possess", "no_dotstar_anchor", "no_start_optimize", "ucp", "ungreedy", "utf", "never_backslash_c",
    "alt_circumflex", "alt_verbnames", "use_offset_limit",
)


class RegexOptions(ValueType):
    """regex_options: words from pcre2's option names; keepalived silently skips others."""

    max_args = None

    def parse(self, args, ctx):
        return tuple(w for w in args if w in REGEX_OPTIONS)

    def format(self, value):
        return list(value)


class RegexStack(ValueType):
    """regex_stack START MAX (bytes); keepalived only logs a bad one."""

    min_args = 2
    max_args = 2

    def parse(self, args, ctx):
        if len(args) != 2:
            raise ValueProblem("regex_stack requires start and max values", ConfigErr.OK)
        start, end = numbers.strtoul(args[0]), numbers.strtoul(args[1])
        if start.rest:
            raise ValueProblem("regex_stack invalid start value", ConfigErr.OK)
        if end.rest:
            raise ValueProblem("regex_stack invalid max value", ConfigErr.OK)
        start, end = start.value, end.value
        if start > end:
            raise ValueProblem("regex stack start cannot exceed max value", ConfigErr.OK)
        return (start, end)

    def check_arity(self, args, ctx):
        if len(args) != 2:
            raise ValueProblem("regex_stack requires start and max values", ConfigErr.OK)

    def format(self, value):
        return [str(value[0]), str(value[1])]


class RegexOffset(ValueType):
    """regex_min_offset / regex_max_offset: a byte offset (keepalived only logs bad values)."""

    max_args = None

    def parse(self, args, ctx):
        offset = numbers.strtoul(args[0])
        if offset.rest:
            raise ValueProblem(f"Invalid {ctx.keyword} {args[0]} specified", ConfigErr.OK)
        return offset.value

    def format(self, value):
        return [str(value)]


class Regex(ValueType):
    """regex PATTERN: exactly one (quoted) word."""

    max_args = None

    def parse(self, args, ctx):
        if len(args) != 1:
            raise ValueProblem("regex missing or too many fields", ConfigErr.OK)
        return args[0]

    def format(self, value):
        return ['"' + value + '"']


class HexString(ValueType):
    """A free-format hex string (UDP_CHECK payload / require_reply): digits, spaces; 'x' masks a nibble
    in replies. Kept as written (words joined by one space); `hex_bytes()` decodes it."""

    def __init__(self, optional: bool = False, mask: bool = False, message: str = ""):
        self.min_args = 0 if optional else 1
        self.max_args = None
        self.mask = mask
        self.message = message

    def parse(self, args, ctx):
        if not args:
            if self.min_args:
                raise ValueProblem("UDP_CHECK payload requires a payload")
            return ""
        text = " ".join(args)
        if not hex_bytes(text, self.mask)[0]:
            raise ValueProblem(self.message)
        return text

    def check_arity(self, args, ctx):
        if self.min_args and not args:
            raise ValueProblem("UDP_CHECK payload requires a payload")

    def format(self, value):
        return value.split() if value else []


def hex_bytes(text: str, mask_allowed: bool = True) -> tuple[bytes, bytes]:
    """keepalived's read_hex_str: each word is read as pairs of nibbles from the left, a last odd
    nibble standing alone ('Ab12f' -> AB 12 0F); reading stops at the first character that is
    not a hex digit (or 'x' where a mask is allowed). Returns (data, mask); the mask has the
    bits of nibbles given as 'x' cleared (ignored when comparing a reply)."""
    data = bytearray()
    mask = bytearray()
    ok = string.hexdigits + ("xX" if mask_allowed else "")
    for word in text.split():
        for i in range(0, len(word), 2):
            pair = word[i:i + 2]
            bad = next((j for j, c in enumerate(pair) if c not in ok), None)
            if bad == 0:
                return bytes(data), bytes(mask)
            if bad == 1:  # keepalived drops the half-read octet too
                return bytes(data), bytes(mask)
            pair = pair.rjust(2, "0")
            data.append(int("".join("0" if c in "xX" else c for c in pair), 16))
            mask.append(int("".join("0" if c in "xX" else "f" for c in pair), 16))
    return bytes(data), bytes(mask)


@dataclass(frozen=True, slots=True)
class FileWeight:
    """FILE_CHECK `weight N [reverse|noreverse]`."""

    weight: int
    reverse: bool = False


class FileWeightType(ValueType):
    max_args = None

    def parse(self, args, ctx):
        weight = numbers.read_int(args[0], -WEIGHT_LIMIT, WEIGHT_LIMIT).take(ctx)
        if weight is None:
            raise ValueProblem(f"weight for track file must be in [{-WEIGHT_LIMIT}..{WEIGHT_LIMIT}] inclusive. "
                               "Ignoring...")
        reverse = False
        if len(args) >= 2:
            if args[1] == "reverse":
                reverse = True
            elif args[1] != "noreverse":
                raise ValueProblem(f"unknown track file weight option {args[1]} - ignoring")
        return FileWeight(weight, reverse)

    def check_arity(self, args, ctx):
        if not args:
            raise ValueProblem("track file weight missing")
        super().check_arity(args, ctx)

    def format(self, value):
        return [str(value.weight)] + (["reverse"] if value.reverse else [])


# --------------------------------------------------------------------------- checkers
#: what an unset checker setting falls back to when the real and virtual server leave it unset
CHECKER_DEFAULTS = {
    "retry": 1,               # MISC_CHECK 0, DNS_CHECK 3
    "delay_before_retry": 1.0,  # HTTP_GET/SSL_GET 3s, DNS_CHECK = delay_loop
}


@model
class CheckerBase(Model):
    """Options every checker but FILE_CHECK/BFD_CHECK has (install_checker_common_keywords(false))."""

    retry: int | None = kw(Number(0, UINT_MAX, error="Invalid retry connection value '{v}'"))
    delay_before_retry: float | None = kw(Decimal(0.0, error="Invalid delay_before_retry connection value '{v}'"))
    warmup: float | None = kw(Decimal(0.0, error="Invalid warmup connection value '{v}'"))
    delay_loop: float | None = kw(Decimal(1e-6, error="delay_loop '{v}' is invalid - ignoring"))
    alpha: bool | None = kw(OptBool())
    log_all_failures: bool | None = kw(OptBool())


@model
class ConnChecker(CheckerBase):
    """Checkers that connect somewhere (install_checker_common_keywords(true))."""

    connect_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = kw(
        IpAddr("Invalid connect_ip address {v} - ignoring"))
    connect_port: int | None = kw(Number(1, 65535, error="Invalid checker connect_port '{v}'"))
    bindto: ipaddress.IPv4Address | ipaddress.IPv6Address | None = kw(
        IpAddr("Invalid bindto address {v} - ignoring"))
    bind_port: int | None = kw(Number(1, 65535, error="Invalid checker bind_port '{v}'"))
    bind_if: str | None = kw(Str())
    connect_timeout: float | None = kw(Decimal(1e-6, UINT_MAX / TIMER_HZ, error="connect_timeout {v} invalid - ignoring"))
    fwmark: int | None = kw(Number(0, UINT_MAX, error="Invalid fwmark connection value '{v}'"))


@model
class TcpCheck(ConnChecker):
    block_keyword = "TCP_CHECK"


@model
class PingCheck(ConnChecker):
    block_keyword = "PING_CHECK"


@model
class Url(Model):
    """url { ... } of HTTP_GET / SSL_GET."""

    block_keyword = "url"

    path: str | None = kw(Text())
    digest: str | None = kw(Digest(), once="Digest '{arg}' is a duplicate")
    #: () means keepalived's default, 200-299
    status_code: tuple[tuple[int, int], ...] = kw(StatusCodes(), default=())
    virtualhost: str | None = kw(WithMissing(Text(), "Missing HTTP_GET virtualhost name"))
    regex: str | None = kw(WithMissing(Regex(), "regex missing or too many fields", ConfigErr.OK))
    regex_no_match: bool = kw(Present(), default=False)
    regex_options: tuple[str, ...] = kw(RegexOptions(), default=())
    regex_min_offset: int | None = kw(WithMissing(RegexOffset(), "Missing or too may options for regex_min_offset",
                                                  ConfigErr.OK))
    regex_max_offset: int | None = kw(WithMissing(RegexOffset(), "Missing or too may options for regex_max_offset",
                                                  ConfigErr.OK))
    regex_stack: tuple[int, int] | None = kw(RegexStack())

    def accepts(self, code: int) -> bool:
        """Whether an HTTP status code counts as success for this url."""
        ranges = self.status_code or ((200, 299),)
        return any(lo <= code <= hi for lo, hi in ranges)


def _nb_get_retry(value: int, ctx: Ctx) -> int:
    if ctx.keyword == "nb_get_retry":
        ctx.warn("nb_get_retry is deprecated - please use 'retry'", ConfigErr.GENERAL_ERROR)
    return value


@model
class HttpGet(ConnChecker):
    block_keyword = "HTTP_GET"

    retry: int | None = kw(Number(0, UINT_MAX, error="Invalid retry connection value '{v}'"),
                           aliases=("nb_get_retry",), check=_nb_get_retry)
    virtualhost: str | None = kw(WithMissing(Text(), "HTTP_GET virtualhost name missing"))
    http_protocol: str | None = kw(WithMissing(MsgChoice("1.0", "1.1", "1.0C", aliases={"1.0c": "1.0C"},
                                                         message="Invalid http_protocol version {v}"),
                                               "Missing http_protocol version"))
    enable_sni: bool | None = kw(OptBool())
    fast_recovery: bool | None = kw(OptBool())
    url: tuple[Url, ...] = kw(Nested(Url), multi=True)
    #: SNI with this name ("" alone: the default name); newer than 2.2.7
    sni_name: str | None = kw(SniName(), since="main (after 2.4.3)")


@model
class SslUrl(Url):
    """url { ... } of SSL_GET: also tls_compliant (newer than 2.2.7)."""

    tls_compliant: bool | None = kw(OptBool("Invalid tls_compliant option {v}"), since="2.2.8")


@model
class SslGet(HttpGet):
    block_keyword = "SSL_GET"

    url: tuple[Url, ...] = kw(Nested(SslUrl), multi=True)
    #: close the TLS connection with a close_notify (newer than 2.2.7)
    tls_compliant: bool | None = kw(OptBool("Invalid tls_compliant option {v}"), since="2.2.8")


@model
class SmtpHost(ConnChecker):
    """SMTP_CHECK's deprecated `host { ... }` sub-block: one more checker with its own connection."""

    block_keyword = "host"


@model
class SmtpCheck(ConnChecker):
    block_keyword = "SMTP_CHECK"

    helo_name: str | None = kw(WithMissing(Text(), "SMTP_CHECK helo name missing"))
    host: tuple[SmtpHost, ...] = kw(Nested(SmtpHost), multi=True)


@model
class MiscCheck(CheckerBase):
    block_keyword = "MISC_CHECK"

    #: the command line (one word, quoted if it has arguments), as keepalived takes it
    misc_path: str | None = kw(WithMissing(ScriptCommand(), "misc_path without a script", ConfigErr.OK))
    misc_timeout: int | None = kw(Number(0, UINT_MAX // 1000000, error="Invalid misc_timeout value '{v}'"))
    misc_dynamic: bool = kw(Present(), default=False)
    #: (user[, group]); () when `user` was given without a name (keepalived reports it)
    user: tuple[str, ...] | None = kw(UserGroup(required=False))


DNS_TYPES = ("A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY")


class DnsName(Str):
    """DNS_CHECK name, refused (and left unset) when keepalived 2.2.7 sees an empty label. Its test
    also refuses a one-character first label ('a.example'), which we keep for parity."""

    def parse(self, args, ctx):
        name = args[0]
        if (name.startswith(".") and name != ".") or name[1:2] == "." or ".." in name:
            raise ValueProblem(f"DNS_CHECK name '{name}' has empty label - ignoring")
        return name


@model
class DnsCheck(ConnChecker):
    block_keyword = "DNS_CHECK"

    type: str = kw(MsgChoice(*DNS_TYPES, case=False, message="Unknown DNS check type {v} - ignoring"),
                   default="SOA")
    name: str = kw(DnsName(), default=".", once="DNS_CHECK name already specified - ignoring")


@model
class UdpCheck(ConnChecker):
    block_keyword = "UDP_CHECK"

    #: hex string as written; None: keepalived sends random data
    payload: str | None = kw(HexString(message="Invalid hex string for UDP_CHECK payload"))
    #: None: no reply needed; "": any reply; else the hex string the reply must match ('x' = any nibble)
    require_reply: str | None = kw(HexString(optional=True, mask=True, message="Invalid hex string for UDP_CHECK reply"))
    min_reply_length: int = kw(Number(0, 65535, error="UDP_CHECK min length {v} not valid - must be between 0 & 65535"),
                               default=0)
    max_reply_length: int = kw(Number(0, 65535, error="UDP_CHECK max length {v} not valid - must be between 0 & 65535"),
                               default=255)


@model
class FileCheck(Model):
    block_keyword = "FILE_CHECK"

    track_file: str | None = kw(Str())
    #: None: the track_file block's own weight
    weight: FileWeight | None = kw(FileWeightType())


class BfdName(Word):
    """BFD_CHECK name: exactly one word."""

    min_args = 0
    max_args = None

    def check_arity(self, args, ctx):
        if len(args) != 1:
            raise ValueProblem("BFD_CHECK - No or too many names specified - skipping checker")

    def parse(self, args, ctx):
        return args[0]


@model
class BfdCheck(Model):
    block_keyword = "BFD_CHECK"

    name: str | None = kw(BfdName())
    alpha: bool | None = kw(OptBool())


#: every checker model, by its keyword
CHECKER_TYPES: dict[str, type[Model]] = {
    cls.block_keyword: cls
    for cls in (HttpGet, SslGet, TcpCheck, SmtpCheck, DnsCheck, MiscCheck, BfdCheck, UdpCheck, PingCheck,
                FileCheck)
}

Checker = HttpGet | SslGet | TcpCheck | SmtpCheck | DnsCheck | MiscCheck | BfdCheck | UdpCheck | PingCheck | FileCheck


__all__ = [
    "BfdCheck", "CHECKER_DEFAULTS", "CHECKER_TYPES", "Checker", "CheckerBase", "ConnChecker", "DnsCheck",
    "FileCheck", "FileWeight", "HttpGet", "MiscCheck", "PingCheck", "SmtpCheck", "SmtpHost", "SslGet",
    "TcpCheck", "UdpCheck", "Url", "hex_bytes", "Ctx",
]
