"""Value types of global_defs (keepalived/core/global_parser.c): each keyword's words as
keepalived's handler reads them, with its messages. The block itself is global_defs.py.

keepalived ignores extra words after most global keywords, so these types do too.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Any

from keepalived_py.config import numbers
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.numbers import UINT_MAX
from keepalived_py.config.schema import (
    ValueProblem,
    ValueType,
    _quote,
)
from keepalived_py.config.values import (
    Str,
    inet_stosockaddr,
    owner_words,
)

GE = ConfigErr.GENERAL_ERROR
#: sched_get_priority_max(SCHED_RR) on Linux
SCHED_RR_MAX = 99
SCHED_RR_MIN = 1
#: TASK_COMM_LEN - 1
PROCESS_NAME_MAX = 15


class ProcessName(Str):
    """A process name: more than 15 characters is truncated with an error, as keepalived does."""

    def __init__(self) -> None:
        super().__init__()  # keepalived reads past the end of the line: no "Process name missing"

    def parse(self, args, ctx):
        name = super().parse(args, ctx)
        if len(name) > PROCESS_NAME_MAX:
            ctx.warn(f"Process name {name} more than {PROCESS_NAME_MAX} characters, truncating", GE)
            name = name[:PROCESS_NAME_MAX]
        return name


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """`smtp_server HOST [PORT]` (HOST an address or a domain name; port 25 by default)."""

    host: str
    port: int = 25


class SmtpServerType(ValueType):
    max_args = None

    def parse(self, args, ctx):
        port = 25
        if len(args) >= 2:
            reading = numbers.read_unsigned(args[1], 1, 65535)
            if reading.value is None:
                # read by inet_stosockaddr, then again by domain_stosockaddr
                reading.take(ctx)
                reading.take(ctx)
                raise ValueProblem(f"Invalid smtp server {args[0]} {args[1]}", GE)
            port = reading.value
        return SmtpServer(args[0], port)

    def format(self, value):
        return [_quote(value.host)] + ([str(value.port)] if value.port != 25 else [])


@dataclass(frozen=True, slots=True)
class FifoSpec:
    """`FIFO_NAME [username [groupname]]` of notify_fifo, vrrp_notify_fifo, lvs_notify_fifo."""

    name: str
    user: str | None = None
    group: str | None = None


class FifoSpecType(ValueType):
    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        if not args:
            prefix = ctx.keyword[: -len("notify_fifo")]
            raise ValueProblem(f"No {prefix}notify_fifo name specified", GE)
        return FifoSpec(args[0], args[1] if len(args) > 1 else None, args[2] if len(args) > 2 else None)

    def format(self, value):
        return [_quote(value.name), *owner_words(value.user, value.group)]


@dataclass(frozen=True, slots=True)
class ScriptUser:
    """`script_user username [groupname]`."""

    user: str
    group: str | None = None


class ScriptUserType(ValueType):
    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        if not args:
            raise ValueProblem("No script username specified", GE)
        return ScriptUser(args[0], args[1] if len(args) > 1 else None)

    def format(self, value):
        return [_quote(value.user)] + ([_quote(value.group)] if value.group else [])


@dataclass(frozen=True, slots=True)
class LvsTimeouts:
    """`lvs_timeouts [tcp SECS] [tcpfin SECS] [udp SECS]` (unset ones are left as the kernel has them)."""

    tcp: int | None = None
    tcpfin: int | None = None
    udp: int | None = None


LVS_MAX_TIMEOUT = 86400 * 31


class LvsTimeoutsType(ValueType):
    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        if len(args) < 2:
            raise ValueProblem("lvs_timeouts requires at least one option", GE)
        values: dict[str, int] = {}
        i = 0
        while i < len(args):
            word = args[i]
            if word in ("tcp", "tcpfin", "udp"):
                if i == len(args) - 1:
                    ctx.warn(f"No value specified for lvs_timeout {word} - ignoring", GE)
                    i += 1
                    continue
                value = numbers.read_unsigned(args[i + 1], 0, LVS_MAX_TIMEOUT).take(ctx)
                if value is None:
                    ctx.warn(f"Invalid lvs_timeout {word} ({args[i + 1]}) - ignoring", GE)
                else:
                    values[word] = value
                i += 2
                continue
            ctx.warn(f"Unknown option {word} specified for lvs_timeouts", GE)
            i += 1
        return LvsTimeouts(**values)

    def format(self, value):
        words: list[str] = []
        for name in ("tcp", "tcpfin", "udp"):
            item = getattr(value, name)
            if item is not None:
                words += [name, str(item)]
        return words


@dataclass(frozen=True, slots=True)
class LvsSyncDaemon:
    """`lvs_sync_daemon IF [[inst] VRRP_INSTANCE] [id SYNCID] [maxlen LEN] [port PORT] [ttl TTL] [group ADDR]`."""

    interface: str
    instance: str | None = None
    syncid: int | None = None  # default: the vrrp instance's VRID, or 0
    maxlen: int | None = None
    port: int | None = None  # default 8848
    ttl: int | None = None
    group: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None  # default 224.0.0.81


IP_VS_IFNAME_MAXLEN = 16


class LvsSyncDaemonType(ValueType):
    min_args = 0
    max_args = None

    def parse(self, args, ctx):  # noqa: C901 - one branch per option, as keepalived
        if not args:
            raise ValueProblem("lvs_sync_daemon requires interface", GE)
        if len(args[0]) >= IP_VS_IFNAME_MAXLEN:
            raise ValueProblem(f"lvs_sync_daemon interface name '{args[0]}' too long - ignoring", GE)
        values: dict[str, Any] = {}
        ranges = {"maxlen": (1, 65535 - 20 - 8), "port": (1, 65535), "ttl": (1, 255)}
        i = 1
        while i < len(args):
            word = args[i]
            pos = i + 1  # keepalived's index into the line (keyword is 0)
            if word == "inst":
                if i + 1 >= len(args):
                    raise ValueProblem("*** Configuration line starting `lvs_sync_daemon` is missing a parameter "
                                       f"after keyword `inst` at word position {pos + 2}",
                                       ConfigErr.MISSING_PARAMETER)
                if "instance" in values:
                    ctx.warn("lvs_sync_daemon vrrp instance has already been specified as "
                             f"{values['instance']} - ignoring", GE)
                else:
                    values["instance"] = args[i + 1]
                i += 2
                continue
            if word in ("id", "maxlen", "port", "ttl", "group"):
                if i == len(args) - 1:
                    tail = ", defaulting to vrid" if word == "id" else " - ignoring"
                    ctx.warn(f"No value specified for lvs_sync_daemon {word}{tail}", GE)
                    i += 1
                    continue
                text = args[i + 1]
                if word == "id":
                    value = numbers.read_unsigned(text, 0, 255).take(ctx)
                    if value is None:
                        ctx.warn(f"Invalid syncid ({text}) - defaulting to vrid", GE)
                    else:
                        values["syncid"] = value
                elif word == "group":
                    try:
                        addr = ipaddress.ip_address(text)
                    except ValueError:
                        ctx.warn(f"Invalid lvs_sync_daemon group ({text}) - ignoring", GE)
                    else:
                        if not addr.is_multicast:
                            ctx.warn(f"lvs_sync_daemon group address {text} is not multicast - ignoring", GE)
                        else:
                            values["group"] = addr
                else:
                    lo, hi = ranges[word]
                    value = numbers.read_unsigned(text, lo, hi).take(ctx)
                    if value is None:
                        ctx.warn(f"Invalid lvs_sync_daemon {word} ({text}) - ignoring", GE)
                    else:
                        values[word] = value
                i += 2
                continue
            if i == 1:  # backward compatibility: IF VRRP_INSTANCE [SYNC_ID]
                values.setdefault("instance", word)
                i += 1
                continue
            if i == 2:
                value = numbers.read_unsigned(word, 0, 255).take(ctx)
                if value is None:
                    ctx.warn(f"Invalid syncid ({word}) - defaulting to vrid", GE)
                else:
                    ctx.warn("Please use keyword \"id\" before lvs_sync_daemon SYNCID", GE)
                    values["syncid"] = value
                i += 1
                continue
            ctx.warn(f"Unknown option {word} specified for lvs_sync_daemon", GE)
            i += 1
        return LvsSyncDaemon(args[0], **values)

    def format(self, value):
        words = [_quote(value.interface)]
        if value.instance is not None:
            words += ["inst", _quote(value.instance)]
        for name in ("syncid", "maxlen", "port", "ttl", "group"):
            item = getattr(value, name)
            if item is not None:
                words += ["id" if name == "syncid" else name, str(item)]
        return words


class McastGroup(ValueType):
    """vrrp_mcast_group4/6: a multicast address of the right family."""

    max_args = None

    def __init__(self, family: int):
        self.family = family

    def parse(self, args, ctx):
        text = args[0]
        addr = inet_stosockaddr(text)
        if addr is None:
            raise ValueProblem(f"Can't parse {ctx.keyword} [{text}]. Skipping", GE)
        if addr.version != self.family:
            raise ValueProblem(f"{ctx.keyword} [{text}] is not IPv{self.family}. Skipping", GE)
        if not addr.is_multicast:
            raise ValueProblem(f"{ctx.keyword} [{text}] is not multicast. Skipping", GE)
        if self.family == 6 and (int(addr) >> 112) & 0xF != 2:
            ctx.warn(f"{ctx.keyword} [{text}] should be link-local multicast.", ConfigErr.WARNING)
        return addr

    def format(self, value):
        return [str(value)]


class RtPriority(ValueType):
    """*_rt_priority: a SCHED_RR priority, clamped to [1, 99] with keepalived's messages."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        process = ctx.keyword.split("_", 1)[0]
        if not args:
            raise ValueProblem(f"No {process} process real-time priority specified", GE)
        value = numbers.read_int(args[0]).take(ctx)
        if value is None:
            raise ValueProblem(f"{process} process real-time priority '{args[0]}' invalid", GE)
        if value < SCHED_RR_MIN:
            ctx.warn(f"{process} process real-time priority {value} less than minimum {SCHED_RR_MIN} - "
                     "setting to minimum", GE)
            value = SCHED_RR_MIN
        elif value > SCHED_RR_MAX:
            ctx.warn(f"{process} process real-time priority {value} greater than maximum {SCHED_RR_MAX} - "
                     "setting to maximum", GE)
            value = SCHED_RR_MAX
        return value

    def format(self, value):
        return [str(value)]


class NicePriority(ValueType):
    """vrrp/checker/bfd_priority: a nice value in [-20, 19]."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        process = ctx.keyword.split("_", 1)[0]
        if not args:
            raise ValueProblem(f"No {process} process priority specified", GE)
        value = numbers.read_int(args[0], -20, 19).take(ctx)
        if value is None:
            raise ValueProblem(f"Invalid {process} process priority specified", GE)
        return value

    def format(self, value):
        return [str(value)]


def online_cpus() -> int:
    try:
        return int(os.sysconf("SC_NPROCESSORS_ONLN"))
    except (ValueError, OSError):
        return os.cpu_count() or 1


class CpuAffinity(ValueType):
    """*_cpu_affinity CPU...: cpu ids of this host (keepalived checks them against the online CPUs)."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        process = ctx.keyword.split("_", 1)[0]
        if not args:
            raise ValueProblem(f"No {process} cpu_id set specified", GE)
        ncpu = online_cpus()
        cpus = []
        for word in args:
            value = numbers.read_int(word, 0, ncpu - 1).take(ctx)
            if value is None:
                # keepalived names what strtol made of the word, cut to an int
                cpu = (numbers.strtol(word).value + 2**31) % 2**32 - 2**31
                raise ValueProblem(f"Invalid cpu_id:{cpu} specified for {process} process", GE)
            cpus.append(value)
        return tuple(cpus)

    def format(self, value):
        return [str(c) for c in value]


class RtRlimit(ValueType):
    """*_rlimit_rttime: micro-seconds of CPU between blocking calls (1 becomes 2)."""

    max_args = None

    def parse(self, args, ctx):
        process = ctx.keyword.split("_", 1)[0]
        value = numbers.read_unsigned(args[0], 1, UINT_MAX).take(ctx)
        if value is None:
            raise ValueProblem(f"Invalid {process} real-time limit - {args[0]}", GE)
        return 2 if value == 1 else value

    def format(self, value):
        return [str(value)]


class MaxAutoPriority(ValueType):
    """`max_auto_priority [-1..99]`: alone means the maximum."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        if not args:
            return SCHED_RR_MAX
        value = numbers.read_int(args[0], -1, SCHED_RR_MAX).take(ctx)
        if value is None:
            raise ValueProblem(f"max_auto_priority '{args[0]}' must be in [0, {SCHED_RR_MAX}] (or -1 to disable) - "
                               "ignoring", GE)
        return value

    def format(self, value):
        return [str(value)]


class OptName(ValueType):
    """A keyword with an optional word, and a default when the word is absent."""

    min_args = 0
    max_args = None

    def __init__(self, default: str, maxlen: int | None = None, too_long: str = ""):
        self.default = default
        self.maxlen = maxlen
        self.too_long = too_long

    def parse(self, args, ctx):
        if not args:
            return self.default
        if self.maxlen is not None and len(args[0]) >= self.maxlen:
            raise ValueProblem(self.too_long, GE)
        return args[0]

    def format(self, value):
        return [] if value == self.default else [_quote(value)]


@dataclass(frozen=True, slots=True)
class IptablesChains:
    """`vrrp_iptables [IN_CHAIN [OUT_CHAIN]]` (alone: INPUT and OUTPUT)."""

    inchain: str = "INPUT"
    outchain: str | None = "OUTPUT"


class IptablesType(ValueType):
    """The Debian build has nftables and no iptables: keepalived says so and uses nftables."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        ctx.warn("iptables not supported, using nftables instead. Please replace 'vrrp_iptables and "
                 "'vrrp_ipsets' with 'nftables' config option", GE)
        if not args:
            return IptablesChains()
        return IptablesChains(args[0], args[1] if len(args) > 1 else None)

    def format(self, value):
        if value == IptablesChains():
            return []
        return [_quote(value.inchain)] + ([_quote(value.outchain)] if value.outchain else [])


class IpsetsType(ValueType):
    """`vrrp_ipsets [NAMES...]` (up to 5 names); keepalived built without libipset rejects it."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        ctx.warn("vrrp_ipsets is not supported (keepalived built without ipset support; use nftables)", GE)
        return tuple(args[:5])

    def format(self, value):
        return [_quote(w) for w in value]


@dataclass(frozen=True, slots=True)
class RxBufsPolicy:
    """`vrrp_rx_bufs_policy MTU|ADVERT|SIZE`."""

    policy: str | None = None  # MTU | ADVERT
    size: int | None = None


class RxBufsPolicyType(ValueType):
    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        if not args:
            raise ValueProblem("vrrp_rx_bufs_policy missing", GE)
        mtu = advert = False
        size = None
        pending: str | None = None  # the last bad word's message: the keyword's error when nothing is set
        for word in args:
            if word.upper() == "MTU":
                mtu = True
            elif word.upper() == "ADVERT":
                advert = True
            else:
                # keepalived reads the size from the first word whatever word this is
                value = numbers.read_unsigned(args[0]).take(ctx)
                if value is None:
                    if pending is not None:
                        ctx.warn(pending, GE)
                    pending = f"Invalid vrrp_rx_bufs_policy {word}"
                else:
                    size = value
        if size is None and not (mtu or advert):
            raise ValueProblem(pending or f"Invalid vrrp_rx_bufs_policy {args[0]}", GE)
        if pending is not None:
            ctx.warn(pending, GE)
        if size is not None and (mtu or advert):
            ctx.warn("Cannot set vrrp_rx_bufs_policy size and policy, ignoring policy", GE)
            return RxBufsPolicy(None, size)
        if mtu and advert:
            ctx.warn("Cannot set both vrrp_rx_bufs_policy MTU and ADVERT, ignoring ADVERT", GE)
        if mtu:
            return RxBufsPolicy("MTU")
        if advert:
            return RxBufsPolicy("ADVERT")
        return RxBufsPolicy(None, size)

    def format(self, value):
        return [value.policy] if value.policy else [str(value.size)]


_UMASK_BITS = {"IRUSR": 0o400, "IWUSR": 0o200, "IXUSR": 0o100, "IRGRP": 0o040, "IWGRP": 0o020, "IXGRP": 0o010,
               "IROTH": 0o004, "IWOTH": 0o002, "IXOTH": 0o001}


class UmaskType(ValueType):
    """`umask NUMBER|BITS` (number in C base 0; bits like IWGRP|IWOTH)."""

    max_args = None

    def parse(self, args, ctx):
        mask = args[0]
        if mask[:1].isdigit():
            if len(args) != 1:
                raise ValueProblem("Extra parameter(s) to umask option", GE)
            c = numbers.strtol(mask, 0)  # keepalived calls strtol itself: no INVALID_NUMBER text
            value = c.value
            if c.rest or value < 0 or value & ~0o777:
                raise ValueProblem(f"invalid umask value {mask}", GE)
            return value
        value = 0
        need_or = False
        for word in args:
            rest = word
            while rest:
                if need_or:
                    if rest[0] == "|":
                        need_or = False
                        rest = rest[1:]
                        continue
                    raise ValueProblem(f"Invalid umask syntax {word}", GE)
                bit = _UMASK_BITS.get(rest[:5])
                if bit is None:
                    raise ValueProblem(f"Unknown umask bit {rest}", GE)
                value |= bit
                rest = rest[5:]
                need_or = True
        if not need_or:
            raise ValueProblem("umask missing bit value", GE)
        return value

    def format(self, value):
        return [f"0{value:o}" if value else "0"]


class SnmpSocket(ValueType):
    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        if len(args) > 1:
            raise ValueProblem("Too many parameters specified for snmp_socket - ignoring", GE)
        if not args:
            raise ValueProblem("SNMP error : snmp socket name missing", GE)
        return args[0]

    def format(self, value):
        return [_quote(value)]


class IncludeCheckType(ValueType):
    """`include_check [OPTIONS]`: () means all checks (the preprocessor acts on it)."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        for index, word in enumerate(args):
            name = word[1:] if word[:1] in "+-" else word
            if word[:1] not in "+-" and index:
                ctx.warn(f"Duplicate include_check '{word}' specified - ignoring", GE)
                continue
            if name not in INCLUDE_CHECK_TYPES:
                ctx.warn(f"Unknown include_check type '{name}' - ignoring", GE)
        return tuple(args)

    def format(self, value):
        return [_quote(w) for w in value]


#: include_check's types in keepalived 2.2.7 (the man page's 'readable' is 'read' in the code)
INCLUDE_CHECK_TYPES = ("read", "match", "wildcard_match", "brace_match")
