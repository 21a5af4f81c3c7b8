"""virtual_server_group, virtual_server, real_server (keepalived.conf(5) 'LVS CONFIGURATION').

Keywords are those keepalived 2.2.7 installs in keepalived/check/check_parser.c. Settings a
real server inherits from its virtual server when it leaves them unset (weight, lvs_method,
retry, delay_loop, connect_timeout, warmup, delay_before_retry, alpha, inhibit_on_failure,
smtp_alert) default to None; `VirtualServer.rs_setting()` gives the value keepalived uses.
Settings keepalived itself reports as "not set, setting default" (lb_algo, lb_kind, protocol)
are None when not given; the `scheduler`, `forwarding` and `service_protocol` properties give
what keepalived then uses.
"""

from __future__ import annotations

import ipaddress
import operator
from dataclasses import dataclass
from typing import Any

from keepalived_py.config import numbers
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.checkers import (
    WEIGHT_LIMIT,
    BfdCheck,
    DnsCheck,
    FileCheck,
    HttpGet,
    MiscCheck,
    MsgChoice,
    PingCheck,
    Present,
    SmtpCheck,
    SslGet,
    TcpCheck,
    UdpCheck,
    WithMissing,
)
from keepalived_py.config.model.vsgroup import (  # the group models, re-exported
    VirtualServerGroup,
    VsgEntry,
    VsgEntryType,
    VsgFwmark,
    VsgRange,
)
from keepalived_py.config.model.vsgroup import port_word as _port_word
from keepalived_py.config.numbers import TIMER_HZ, UINT_MAX
from keepalived_py.config.schema import (
    Ctx,
    Model,
    Nested,
    Text,
    ValueProblem,
    ValueType,
    Word,
    head,
    kw,
    model,
)
from keepalived_py.config.values import (
    Decimal,
    IpAddr,
    NotifyScript,
    NotifyScriptType,
    Number,
    OptBool,
    Str,
    inet_pton,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: keepalived's lvs_schedulers[]
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos")
DEFAULT_SCHEDULER = "wlc"
#: IPVS_SVC_PERSISTENT_TIMEOUT: persistence_timeout without a value, or forced by a zero port
DEFAULT_PERSISTENCE_TIMEOUT = 360
#: LVS_MAX_TIMEOUT (31 days)
MAX_PERSISTENCE_TIMEOUT = 86400 * 31
FWMARK_MAX = UINT_MAX


# --------------------------------------------------------------------------- shared value types
@dataclass(frozen=True, slots=True)
class VsTarget:
    """What a virtual_server line names: `IP [PORT]`, `fwmark N` or `group NAME`."""

    address: IPAddress | None = None
    port: int | None = None
    fwmark: int | None = None
    group: str | None = None

    @property
    def kind(self) -> str:
        return "group" if self.group is not None else "fwmark" if self.fwmark is not None else "ip"


class VsTargetType(ValueType):
    max_args = None

    def parse(self, args, ctx):
        first = args[0]
        second = args[1] if len(args) > 1 else None
        if first == "group":
            if second is None:
                raise ValueProblem("virtual_server group requires a name", ConfigErr.MISSING_PARAMETER)
            return VsTarget(group=second)
        if first == "fwmark":
            mark = numbers.read_unsigned(second, 0, FWMARK_MAX).take(ctx) if second is not None else None
            if mark is None:
                raise ValueProblem(f"virtual server fwmark '{second or ''}' must be in [0, {FWMARK_MAX}] - ignoring")
            return VsTarget(fwmark=mark)
        try:
            port = _port_word(second, ctx)
            address = inet_pton(first)
        except ValueError:
            port_word = second if second and second.strip("0") else None
            raise ValueProblem(f"Invalid virtual server IP address{'/port' if port_word else ''} {first}"
                               f"{'/' + port_word if port_word else ''} - skipping") from None
        return VsTarget(address=address, port=port)

    def format(self, value: VsTarget) -> list[str]:
        if value.group is not None:
            return ["group", value.group]
        if value.fwmark is not None:
            return ["fwmark", str(value.fwmark)]
        return [str(value.address)] + ([str(value.port)] if value.port else [])


class PortHead(ValueType):
    """The optional port of a real_server line: 0 (or 00...) means none."""

    max_args = None

    def __init__(self, message: str):
        self.message = message

    def parse(self, args, ctx):
        try:
            return _port_word(args[0], ctx)
        except ValueError:
            raise ValueProblem(self.message.format(v=args[0])) from None

    def format(self, value):
        return [str(value)]


@dataclass(frozen=True, slots=True)
class ServerAddress:
    """`sorry_server IP [PORT]`."""

    address: IPAddress
    port: int | None = None


class ServerAddressType(ValueType):
    max_args = None

    def parse(self, args, ctx):
        try:
            port = _port_word(args[1] if len(args) > 1 else None, ctx)
            address = inet_pton(args[0])
        except ValueError:
            raise ValueProblem(f"Invalid sorry server IP address {args[0]} - skipping") from None
        return ServerAddress(address, port)

    def format(self, value):
        return [str(value.address)] + ([str(value.port)] if value.port else [])


@dataclass(frozen=True, slots=True)
class Forwarding:
    """lb_kind / lvs_method: NAT | DR | TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]."""

    method: str
    tun_type: str | None = None
    tun_port: int | None = None
    csum: str | None = None

    @property
    def tunnel_type(self) -> str:
        return self.tun_type or "ipip"


class ForwardingType(ValueType):
    """keepalived's svr_forwarding_handler (`server` is 'virtual', 'real' or 'sorry' for messages)."""

    max_args = None

    def __init__(self, server: str):
        self.server = server

    def parse(self, args, ctx):
        method = args[0]
        who = self.server
        if method not in ("NAT", "DR", "TUN"):
            raise ValueProblem(f"PARSER : unknown [{method}] routing method for {who} server.")
        try:
            return self._options(method, args[1:], ctx)
        except ValueProblem as problem:
            # keepalived has already set the method when it finds a bad tunnel option
            ctx.warn(str(problem), ConfigErr.GENERAL_ERROR)
            return Forwarding(method)

    def _options(self, method: str, args, ctx: Ctx) -> Forwarding:
        who = self.server
        tun_type = port = csum = None
        i = 0
        while i < len(args):
            word = args[i]
            if word == "type":
                if i + 1 >= len(args):
                    raise ValueProblem(f"Missing tunnel type for {who} server.")
                tun_type = args[i + 1]
                if tun_type not in ("ipip", "gue", "gre"):
                    raise ValueProblem(f"Unknown tunnel type {tun_type} for {who} server.")
                i += 2
            elif word == "port":
                if i + 1 >= len(args):
                    raise ValueProblem(f"Missing port for {who} server gue tunnel.")
                text = args[i + 1]
                port = numbers.read_unsigned(text, 1, 65535).take(ctx)
                if port is None:
                    raise ValueProblem(f"Invalid gue tunnel port {text} for {who} server.")
                i += 2
            elif word in ("nocsum", "csum", "remcsum"):
                csum = word
                i += 1
            else:
                raise ValueProblem(f"Invalid tunnel option {word} for {who} server.")
        if (tun_type == "gue") != (port is not None):
            raise ValueProblem("gue tunnels require port, otherwise cannot have port.")
        if tun_type in (None, "ipip") and csum not in (None, "nocsum"):
            raise ValueProblem("ipip tunnels do not support checksum option.")
        if tun_type == "gre" and csum == "remcsum":
            raise ValueProblem("gre tunnels do not support remote checksum option.")
        return Forwarding(method, tun_type, port, csum)

    def format(self, value: Forwarding) -> list[str]:
        words = [value.method]
        if value.tun_type:
            words += ["type", value.tun_type]
        if value.tun_port is not None:
            words += ["port", str(value.tun_port)]
        if value.csum:
            words.append(value.csum)
        return words


class PersistenceTimeout(ValueType):
    """persistence_timeout [SECONDS]: no value means 360."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        if not args:
            return DEFAULT_PERSISTENCE_TIMEOUT
        value = numbers.read_unsigned(args[0], 1, MAX_PERSISTENCE_TIMEOUT).take(ctx)
        if value is None:
            raise ValueProblem("persistence_timeout invalid")
        return value

    def format(self, value):
        return [str(value)]


class Granularity(ValueType):
    """persistence_granularity: an IPv4 netmask or an IPv6 prefix length 1..128, kept as written.

    Which one keepalived wants depends on the virtual server's family (validate.lvs checks
    that); without one, a '.' makes it IPv4."""

    max_args = None

    def parse(self, args, ctx):
        text = args[0]
        if "." in text:
            try:
                ipaddress.IPv4Address(text)
            except ValueError:
                raise ValueProblem(f"Invalid IPv4 persistence_granularity specified - {text}") from None
            return text
        if not text.isdigit() or int(text) > 0xFFFFFFFF:
            raise ValueProblem(f"Invalid IPv6 persistence_granularity specified - {text}")
        return str(int(text))

    def format(self, value):
        return [value]


class SnmpName(Word):
    """snmp_name: exactly one word, or keepalived says so and ignores it."""

    min_args = 0
    max_args = None

    def __init__(self, server: str):
        self.server = server

    def check_arity(self, args, ctx):
        if len(args) != 1:
            raise ValueProblem(f"{self.server} server snmp_name missing or extra parameters")


class PersistenceEngine(Str):
    def parse(self, args, ctx):
        if len(args[0]) > 15:  # IP_VS_PENAME_MAXLEN 16
            ctx.warn(f"persistence_name too long, truncating - {args[0]}", ConfigErr.GENERAL_ERROR)
            return args[0][:15]
        return args[0]


def _notify_script() -> ValueType:
    """notify_up/notify_down/quorum_up/quorum_down: SCRIPT [username [groupname]]."""
    return NotifyScriptType()


# --------------------------------------------------------------------------- real_server
_CHECKER_FIELDS = ("http_get", "ssl_get", "tcp_check", "smtp_check", "dns_check", "misc_check", "bfd_check",
                   "udp_check", "ping_check", "file_check")
#: all ten checker fields in one call (validation asks each of 10,000 real servers twice)
_checker_fields = operator.attrgetter(*_CHECKER_FIELDS)


@model
class RealServer(Model):
    block_keyword = "real_server"

    address: IPAddress | None = head(IpAddr("Invalid real server ip address/port {v} - skipping"))
    port: int | None = head(PortHead("Invalid real server ip address/port - port {v} - skipping"),
                            optional=True)
    #: None: the virtual server's weight
    weight: int | None = kw(Number(0, WEIGHT_LIMIT, error=f"Real server weight {{v}} is outside range 0-{WEIGHT_LIMIT}"))
    #: None: the virtual server's lb_kind
    lvs_method: Forwarding | None = kw(ForwardingType("real"))
    uthreshold: int | None = kw(Number(0, UINT_MAX, error="Invalid real_server uthreshold '{v}' - ignoring"))
    lthreshold: int | None = kw(Number(0, UINT_MAX, error="Invalid real_server lthreshold '{v}' - ignoring"))
    inhibit_on_failure: bool | None = kw(OptBool())
    notify_up: NotifyScript | None = kw(_notify_script(),
                                  once="((null)) notify_up script already specified - ignoring {arg}")
    notify_down: NotifyScript | None = kw(_notify_script(),
                                  once="((null)) notify_down script already specified - ignoring {arg}")
    alpha: bool | None = kw(OptBool())
    retry: int | None = kw(Number(1, UINT_MAX, error="retry value invalid - {v}"))
    delay_before_retry: float | None = kw(Decimal(0.0, error="real server delay_before_retry '{v}' invalid - "
                                                           "ignoring"))
    warmup: float | None = kw(Decimal(0.0, error="real server warmup '{v}' invalid - ignoring"))
    connect_timeout: float | None = kw(Decimal(1e-6, UINT_MAX / TIMER_HZ,
                                                     error="real server connect_timeout {v} invalid - ignoring"))
    delay_loop: float | None = kw(Decimal(1e-6, error="real server delay_loop '{v}' invalid - ignoring"))
    smtp_alert: bool | None = kw(OptBool())
    virtualhost: str | None = kw(WithMissing(Text(), "real server virtualhost missing"))
    snmp_name: str | None = kw(SnmpName("real"))
    # health checkers, one field per type (keepalived allows any number of each);
    # `checkers` gives them all in source order
    http_get: tuple[HttpGet, ...] = kw(Nested(HttpGet), name="HTTP_GET", multi=True)
    ssl_get: tuple[SslGet, ...] = kw(Nested(SslGet), name="SSL_GET", multi=True)
    tcp_check: tuple[TcpCheck, ...] = kw(Nested(TcpCheck), name="TCP_CHECK", multi=True)
    smtp_check: tuple[SmtpCheck, ...] = kw(Nested(SmtpCheck), name="SMTP_CHECK", multi=True)
    dns_check: tuple[DnsCheck, ...] = kw(Nested(DnsCheck), name="DNS_CHECK", multi=True)
    misc_check: tuple[MiscCheck, ...] = kw(Nested(MiscCheck), name="MISC_CHECK", multi=True)
    bfd_check: tuple[BfdCheck, ...] = kw(Nested(BfdCheck), name="BFD_CHECK", multi=True)
    udp_check: tuple[UdpCheck, ...] = kw(Nested(UdpCheck), name="UDP_CHECK", multi=True)
    ping_check: tuple[PingCheck, ...] = kw(Nested(PingCheck), name="PING_CHECK", multi=True)
    file_check: tuple[FileCheck, ...] = kw(Nested(FileCheck), name="FILE_CHECK", multi=True)

    @property
    def checkers(self) -> tuple[Any, ...]:
        """Every checker of this real server, in the order the configuration gives them."""
        found: list[Any] = []
        for got in _checker_fields(self):
            if got:
                found += got
        if len(found) < 2:  # most real servers have one checker: nothing to order
            return tuple(found)
        return tuple(sorted(found, key=lambda c: (c.pos.line if c.pos is not None else 1 << 62,
                                                  c.pos.file if c.pos is not None else "")))

    @property
    def key(self) -> tuple[IPAddress | None, int]:
        """(address, port; 0 for none): how IPVS tells destinations of a service apart."""
        return (self.address, self.port or 0)


# --------------------------------------------------------------------------- virtual_server
@model
class VirtualServer(Model):
    block_keyword = "virtual_server"

    target: VsTarget | None = head(VsTargetType())
    ip_family: str | None = kw(MsgChoice("inet", "inet6", message="unknown address family {v}"))
    retry: int | None = kw(Number(1, UINT_MAX, error="retry value invalid - {v}"))
    delay_before_retry: float | None = kw(Decimal(0.0, error="virtual server delay before retry '{v}' invalid - "
                                                           "ignoring"))
    warmup: float | None = kw(Decimal(0.0, error="virtual server warmup '{v}' invalid - ignoring"))
    connect_timeout: float = kw(Decimal(1e-6, UINT_MAX / TIMER_HZ, error="virtual server connect_timeout {v} invalid - "
                                              "ignoring"), default=5.0)
    delay_loop: float = kw(Decimal(1e-6, error="virtual server delay loop '{v}' invalid - ignoring"),
                           default=60.0)
    inhibit_on_failure: bool = kw(Present(), default=False)
    #: None: not given (keepalived warns and uses wlc)
    lb_algo: str | None = kw(MsgChoice(*SCHEDULERS, message="Invalid lvs_scheduler '{v}' - ignoring"),
                             aliases=("lvs_sched",))
    hashed: bool = kw(Present(), default=False)
    ops: bool = kw(Present(), default=False)
    flag_1: bool = kw(Present(), name="flag-1", default=False)
    flag_2: bool = kw(Present(), name="flag-2", default=False)
    flag_3: bool = kw(Present(), name="flag-3", default=False)
    sh_port: bool = kw(Present(), name="sh-port", default=False)
    sh_fallback: bool = kw(Present(), name="sh-fallback", default=False)
    mh_port: bool = kw(Present(), name="mh-port", default=False)
    mh_fallback: bool = kw(Present(), name="mh-fallback", default=False)
    #: None: not given (keepalived warns and uses NAT)
    lb_kind: Forwarding | None = kw(ForwardingType("virtual"), aliases=("lvs_method",))
    persistence_engine: str | None = kw(PersistenceEngine())
    #: None: not persistent
    persistence_timeout: int | None = kw(PersistenceTimeout())
    persistence_granularity: str | None = kw(Granularity())
    #: None: not given (keepalived warns and uses UDP for address services)
    protocol: str | None = kw(MsgChoice("TCP", "UDP", "SCTP", case=False, message="Unknown protocol {v} - ignoring"))
    ha_suspend: bool = kw(Present(), default=False)
    smtp_alert: bool | None = kw(OptBool())
    virtualhost: str | None = kw(WithMissing(Text(), "virtual server virtualhost missing"))
    snmp_name: str | None = kw(SnmpName("virtual"))
    alpha: bool = kw(Present(), default=False)
    omega: bool = kw(Present(), default=False)
    quorum_up: NotifyScript | None = kw(_notify_script(),
                                  once="((null)) quorum_up script already specified - ignoring {arg}")
    quorum_down: NotifyScript | None = kw(_notify_script(),
                                  once="((null)) quorum_down script already specified - ignoring {arg}")
    quorum: int = kw(Number(1, UINT_MAX, error=f"Quorum {{v}} must be in [1, {UINT_MAX}]. Setting to 1.",
                                    fallback=1), default=1)
    hysteresis: int = kw(Number(0, UINT_MAX, error=f"Hysteresis {{v}} must be in [0, {UINT_MAX}] - ignoring"),
                         default=0)
    weight: int = kw(Number(1, WEIGHT_LIMIT, error=f"Virtual server weight {{v}} is outside range 1-{WEIGHT_LIMIT}"),
                     default=1)
    sorry_server: ServerAddress | None = kw(ServerAddressType())
    sorry_server_inhibit: bool = kw(Present(), default=False)
    sorry_server_lvs_method: Forwarding | None = kw(ForwardingType("sorry"))
    real_server: tuple[RealServer, ...] = kw(Nested(RealServer), multi=True)

    # ---- what the head names
    @property
    def address(self) -> IPAddress | None:
        return self.target.address if self.target else None

    @property
    def port(self) -> int | None:
        return self.target.port if self.target else None

    @property
    def fwmark(self) -> int | None:
        return self.target.fwmark if self.target else None

    @property
    def group(self) -> str | None:
        return self.target.group if self.target else None

    # ---- what keepalived uses when a keyword is absent
    @property
    def scheduler(self) -> str:
        return self.lb_algo or DEFAULT_SCHEDULER

    @property
    def forwarding(self) -> Forwarding:
        return self.lb_kind or Forwarding("NAT")

    @property
    def service_protocol(self) -> str | None:
        """TCP/UDP/SCTP of an address service (UDP if unset, as the kernel would); None for fwmark."""
        if self.fwmark is not None:
            return None
        return self.protocol or "UDP"

    @property
    def key(self) -> tuple[Any, ...]:
        """Identity for reconciling IPVS: ('ip', address, port, protocol) | ('fwmark', N, family) |
        ('group', NAME, protocol)."""
        target = self.target or VsTarget()
        if target.group is not None:
            return ("group", target.group, self.protocol or "UDP")
        if target.fwmark is not None:
            return ("fwmark", target.fwmark, self.ip_family or "inet")
        return ("ip", target.address, target.port or 0, self.protocol or "UDP")

    def rs_setting(self, rs: RealServer, name: str) -> Any:
        """A real server's setting after keepalived's inheritance from this virtual server."""
        value = getattr(rs, "lvs_method" if name == "lb_kind" else name)
        if value is not None:
            return value
        if name in ("lvs_method", "lb_kind"):
            return self.forwarding
        if name == "smtp_alert":
            return True  # keepalived's default for real servers, unless global smtp_alert says otherwise
        return getattr(self, name)


__all__ = [
    "DEFAULT_SCHEDULER", "Forwarding", "RealServer", "SCHEDULERS", "ServerAddress", "VirtualServer",
    "VirtualServerGroup", "VsTarget", "VsgEntry", "VsgEntryType", "VsgFwmark", "VsgRange",
]
