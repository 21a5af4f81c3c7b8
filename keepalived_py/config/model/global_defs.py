"""global_defs: daemon-wide settings (keepalived.conf(5) 'Global definitions').

Every keyword keepalived 2.2.7 installs in global_defs (keepalived/core/global_parser.c,
init_global_keywords) is declared here, with keepalived's ranges, defaults and messages.
A default of None means "not configured": keepalived then derives the value at run time
(router_id from the host name, smtp_helo_name, the reload file in the pid directory ...),
and the docstring of the field's value type or the comment says how.

keepalived ignores extra words after most global keywords without a word, so the value
types here do too (unlike the schema's generic types, which warn).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keepalived_py.config import numbers
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.numbers import INT_MAX, TIMER_HZ, UINT_MAX
from keepalived_py.config.schema import (
    Ctx,
    Entries,
    Model,
    Present,
    ValueProblem,
    ValueType,
    Word,
    _quote,
    kw,
    model,
)
from keepalived_py.config.values import (
    Decimal,
    GarpExtraIf,
    GarpExtraIfType,
    NotifyScript,
    NotifyScriptType,
    Number,
    OptBool,
    OptChoice,
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
RT_RLIMIT_DEFAULT = 10000

#: the message of keepalived's global <BOOL> keywords for a word that is not one
_GLOBAL_BOOL = "Invalid value '{v}' for global {kw} specified"
_VERY_LARGE = "The {kw} is very large - {v} seconds"


# --------------------------------------------------------------------------- value types
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


def _empty_email_block(value: Sequence[str], ctx: Ctx) -> Sequence[str]:
    if not value:
        ctx.warn_at_end("Warning - empty notification_email block", GE)
    return value


# --------------------------------------------------------------------------- the block
@model
class GlobalDefs(Model):
    block_keyword = "global_defs"

    # --- process names
    process_names: bool = kw(Present(), default=False)
    process_name: str | None = kw(ProcessName())
    vrrp_process_name: str | None = kw(ProcessName())
    checker_process_name: str | None = kw(ProcessName(), aliases=("lvs_process_name",))
    bfd_process_name: str | None = kw(ProcessName())

    # --- identity and email
    router_id: str | None = kw(Str("routerid name missing - ignoring"))  # default: host name
    notification_email_from: str | None = kw(Str("emailfrom missing - ignoring"))  # keepalived@<host>
    smtp_server: SmtpServer | None = kw(SmtpServerType())
    smtp_helo_name: str | None = kw(Str(""))  # default: host name
    smtp_connect_timeout: int | None = kw(Number(0, UINT_MAX // TIMER_HZ,
                                              error="smtp_connect_timeout '{v}' must be in [0, 4294] - ignoring",
                                              zero=(1, "smtp_conect_timeout must be greater than 0, setting to 1")))
    notification_email: tuple[str, ...] = kw(Entries(Word()), check=_empty_email_block)
    smtp_alert: bool | None = kw(OptBool(_GLOBAL_BOOL))
    smtp_alert_vrrp: bool | None = kw(OptBool(_GLOBAL_BOOL))
    smtp_alert_checker: bool | None = kw(OptBool(_GLOBAL_BOOL))
    checker_log_all_failures: bool = kw(OptBool("Invalid value for checker_log_all_failures specified"),
                                        default=False)
    no_email_faults: bool = kw(Present(), default=False)
    no_checker_emails: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    rs_init_notifies: bool = kw(OptBool(_GLOBAL_BOOL), default=False)

    # --- startup / shutdown scripts (timeouts default to 10 s when a script is set)
    startup_script: NotifyScript | None = kw(NotifyScriptType("startup script missing"))
    startup_script_timeout: int | None = kw(Number(1, 1000, error="startup_script_timeout '{v}' must be in [1, 1000] - ignoring",
                                                missing="startup_script_timeout requires value"))
    shutdown_script: NotifyScript | None = kw(NotifyScriptType("shutdown script missing"))
    shutdown_script_timeout: int | None = kw(Number(1, 1000,
                                                 error="shutdown_script_timeout '{v}' must be in [1, 1000] - ignoring",
                                                 missing="shutdown_script_timeout requires value"))

    # --- scheduling of the child processes
    max_auto_priority: int = kw(MaxAutoPriority(), default=0)
    min_auto_priority_delay: int = kw(Number(1, 10_000_000, error="min_auto_priority_delay '{v}' must be in [1, 10000000] - "
                                                         "ignoring", missing="min_auto_priority_delay requires delay time"),
                                      default=1_000_000)
    vrrp_priority: int = kw(NicePriority(), default=0)
    checker_priority: int = kw(NicePriority(), default=0)
    bfd_priority: int = kw(NicePriority(), default=0)
    vrrp_no_swap: bool = kw(Present(), default=False)
    checker_no_swap: bool = kw(Present(), default=False)
    bfd_no_swap: bool = kw(Present(), default=False)
    vrrp_rt_priority: int | None = kw(RtPriority())
    checker_rt_priority: int | None = kw(RtPriority())
    bfd_rt_priority: int | None = kw(RtPriority())
    vrrp_cpu_affinity: tuple[int, ...] = kw(CpuAffinity(), default=())
    checker_cpu_affinity: tuple[int, ...] = kw(CpuAffinity(), default=())
    bfd_cpu_affinity: tuple[int, ...] = kw(CpuAffinity(), default=())
    # *_rlimit_rtime: deprecated spelling, keepalived only logs it
    vrrp_rlimit_rttime: int = kw(RtRlimit(), default=RT_RLIMIT_DEFAULT, aliases=("vrrp_rlimit_rtime",))
    checker_rlimit_rttime: int = kw(RtRlimit(), default=RT_RLIMIT_DEFAULT, aliases=("checker_rlimit_rtime",))
    bfd_rlimit_rttime: int = kw(RtRlimit(), default=RT_RLIMIT_DEFAULT, aliases=("bfd_rlimit_rtime",))

    # --- interfaces
    dynamic_interfaces: bool | str = kw(OptChoice(True, "allow_if_changes", error="Unknown dynamic_interfaces option '{v}'",
                                                             fallback=True), default=False)
    default_interface: str | None = kw(Str("default_interface requires interface name"))  # default eth0
    disable_local_igmp: bool = kw(Present(), default=False)

    # --- LVS
    lvs_timeouts: LvsTimeouts | None = kw(LvsTimeoutsType())
    lvs_flush: bool = kw(Present(), default=False)
    lvs_flush_on_stop: str | None = kw(OptChoice("full", "VS", error="Unknown lvs_flush_on_stop type {v}"),
                                          aliases=("lvs_flush_onstop",))
    lvs_sync_daemon: LvsSyncDaemon | None = kw(LvsSyncDaemonType())

    # --- VRRP protocol defaults
    vrrp_mcast_group4: ipaddress.IPv4Address = kw(McastGroup(4), default=ipaddress.IPv4Address("224.0.0.18"))
    vrrp_mcast_group6: ipaddress.IPv6Address = kw(McastGroup(6), default=ipaddress.IPv6Address("ff02::12"))
    vrrp_garp_master_delay: int = kw(Number(0, UINT_MAX // TIMER_HZ), default=5)
    vrrp_garp_master_repeat: int = kw(Number(0, UINT_MAX, zero=(1, "vrrp_garp_master_repeat must be greater than 0, "
                                                                   "setting to 1")), default=5)
    vrrp_garp_master_refresh: int = kw(Number(0, UINT_MAX, error="Invalid vrrp_garp_master_refresh '{v}' - ignoring"),
                                       default=0)
    vrrp_garp_master_refresh_repeat: int = kw(Number(0, UINT_MAX, zero=(
        1, "vrrp_garp_master_refresh_repeat must be greater than 0, setting to 1")), default=1)
    vrrp_garp_lower_prio_delay: int | None = kw(Number(0, UINT_MAX // TIMER_HZ))  # default: vrrp_garp_master_delay
    vrrp_garp_lower_prio_repeat: int | None = kw(Number(0, INT_MAX, error="Invalid vrrp_garp_lower_prio_repeat '{v}'"))
    vrrp_down_timer_adverts: int = kw(Number(1, 100, error="Invalid vrrp_down_timer_adverts [1:100] '{v}'"), default=3)
    vrrp_garp_interval: float = kw(Decimal(1 / TIMER_HZ, UINT_MAX / TIMER_HZ, large=(1.0, _VERY_LARGE)), default=0.0)
    vrrp_gna_interval: float = kw(Decimal(1 / TIMER_HZ, UINT_MAX / TIMER_HZ, large=(1.0, _VERY_LARGE)), default=0.0)
    vrrp_min_garp: bool = kw(OptBool("Invalid value for vrrp_min_garp specified"), default=False)
    vrrp_garp_extra_if: GarpExtraIf | None = kw(GarpExtraIfType(1), deprecated=("vrrp_vmac_garp_intvl",))
    # None: false, or true under vrrp_strict
    vrrp_lower_prio_no_advert: bool | None = kw(OptBool("Invalid value for vrrp_lower_prio_no_advert specified"))
    vrrp_higher_prio_send_advert: bool | None = kw(OptBool("Invalid value for vrrp_higher_prio_send_advert "
                                                           "specified"))
    vrrp_version: int = kw(Number(2, 3, error="VRRP Error: Version must be either 2 or 3"), default=2)
    vrrp_check_unicast_src: bool = kw(Present(), default=False)
    vrrp_skip_check_adv_addr: bool = kw(Present(), default=False)
    vrrp_strict: bool = kw(Present(), default=False)
    vrrp_notify_priority_changes: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    vrrp_startup_delay: float = kw(Decimal(0.001, UINT_MAX / TIMER_HZ, large=(60.0, _VERY_LARGE)), default=0.0)
    log_unknown_vrids: bool = kw(Present(), default=False)
    vmac_prefix: str | None = kw(Str())  # default "vrrp"
    vmac_addr_prefix: str | None = kw(Str())  # default: vmac_prefix
    vrrp_rx_bufs_policy: RxBufsPolicy | None = kw(RxBufsPolicyType())
    vrrp_rx_bufs_multiplier: int = kw(Number(1, UINT_MAX, error="Invalid vrrp_rx_bufs_multiplier {v}",
                                          missing="Invalid vrrp_rx_bufs_multiplier", exact_args=True), default=3)

    # --- firewall
    vrrp_iptables: IptablesChains | None = kw(IptablesType())
    vrrp_ipsets: tuple[str, ...] | None = kw(IpsetsType())
    nftables: str | None = kw(OptName("keepalived", 256, "nftables table name too long - ignoring"))
    nftables_priority: int = kw(Number(-(2**31), 2**31 - 1, error="invalid nftables chain priority '{v}'", signed=True),
                                default=-1)
    nftables_ifindex: bool = kw(Present(), default=False)
    nftables_ipvs: str | None = kw(OptName("keepalived_ipvs", 256, "ipvs nftables table name too long - ignoring"))
    nftables_ipvs_priority: int = kw(Number(-(2**31), 2**31 - 1, error="invalid ipvs nftables chain priority '{v}'",
                                         signed=True), default=-1)
    nftables_ipvs_start_fwmark: int = kw(Number(1, UINT_MAX, error="invalid ipvs nftables start_fwmark priority '{v}'"),
                                         default=1000)
    nftables_counters: bool = kw(Present(), default=False)

    # --- notify FIFOs
    notify_fifo: FifoSpec | None = kw(FifoSpecType())
    notify_fifo_script: NotifyScript | None = kw(NotifyScriptType("No notify_fifo_script specified"))
    vrrp_notify_fifo: FifoSpec | None = kw(FifoSpecType())
    vrrp_notify_fifo_script: NotifyScript | None = kw(NotifyScriptType("No vrrp_notify_fifo_script specified"))
    lvs_notify_fifo: FifoSpec | None = kw(FifoSpecType())
    lvs_notify_fifo_script: NotifyScript | None = kw(NotifyScriptType("No lvs_notify_fifo_script specified"))
    fifo_write_vrrp_states_on_reload: bool = kw(Present(), default=False)

    # --- SNMP and DBus
    snmp_socket: str | None = kw(SnmpSocket())  # default unix:/var/agentx/master
    enable_traps: bool = kw(Present(), default=False)
    # enable_snmp_keepalived: deprecated since 2.0.0, keepalived accepts it silently
    enable_snmp_vrrp: bool = kw(Present(), default=False, aliases=("enable_snmp_keepalived",))
    enable_snmp_rfc: bool = kw(Present(), default=False)
    enable_snmp_rfcv2: bool = kw(Present(), default=False)
    enable_snmp_rfcv3: bool = kw(Present(), default=False)
    enable_snmp_checker: bool = kw(Present(), default=False)
    enable_dbus: bool = kw(Present(), default=False)
    dbus_service_name: str | None = kw(Str("dbus_service_name missing - ignoring"))  # org.keepalived.Vrrp1

    # --- scripts
    script_user: ScriptUser | None = kw(ScriptUserType())  # default keepalived_script, else root
    enable_script_security: bool = kw(Present(), default=False)

    # --- netlink buffers (0: the system default)
    vrrp_netlink_cmd_rcv_bufs: int = kw(Number(0, UINT_MAX, error="vrrp_netlink_cmd_rcv_bufs size ({v}) invalid",
                                            missing="vrrp_netlink_cmd_rcv_bufs size missing"), default=0)
    vrrp_netlink_cmd_rcv_bufs_force: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    vrrp_netlink_monitor_rcv_bufs: int = kw(Number(0, UINT_MAX, error="vrrp_netlink_monitor_rcv_bufs size ({v}) invalid",
                                                missing="vrrp_netlink_monitor_rcv_bufs size missing"), default=0)
    vrrp_netlink_monitor_rcv_bufs_force: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    process_monitor_rcv_bufs: int = kw(Number(0, UINT_MAX, error="process_monitor_rcv_bufs size ({v}) invalid",
                                           missing="process_monitor_rcv_bufs size missing"), default=0)
    process_monitor_rcv_bufs_force: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    lvs_netlink_cmd_rcv_bufs: int = kw(Number(0, UINT_MAX, error="lvs_netlink_cmd_rcv_bufs size ({v}) invalid",
                                           missing="lvs_netlink_cmd_rcv_bufs size missing"), default=0)
    lvs_netlink_cmd_rcv_bufs_force: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    lvs_netlink_monitor_rcv_bufs: int = kw(Number(0, UINT_MAX, error="lvs_netlink_monitor_rcv_bufs size ({v}) invalid",
                                               missing="lvs_netlink_monitor_rcv_bufs size missing"), default=0)
    lvs_netlink_monitor_rcv_bufs_force: bool = kw(OptBool(_GLOBAL_BOOL), default=False)

    # --- files, reloads, misc
    umask: int | None = kw(UmaskType())  # default IWGRP|IWOTH (022)
    random_seed: int | None = kw(Number(0, UINT_MAX, error="random_seed {v} invalid"))
    reload_check_config: str | None = kw(OptName("/dev/null"))
    reload_time_file: str | None = kw(Str("reload_time_file invalid", exact=True))
    reload_repeat: bool = kw(Present(), default=False)
    reload_file: str | None = kw(OptName(""))  # "": keepalived.reload in the pid directory
    include_check: tuple[str, ...] | None = kw(IncludeCheckType())
    config_save_dir: str | None = kw(Str())
    tmp_config_directory: str | None = kw(Str("{kw} missing directory name"))
    data_use_instance: bool = kw(OptBool("Invalid value '{v}' for global date_use_instance specified"),
                                 default=False)
