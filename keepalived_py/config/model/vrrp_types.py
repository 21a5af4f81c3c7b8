"""Value types of the VRRP blocks, with keepalived 2.2.7's own reading rules and messages.

Numbers are read by keepalived_py.config.numbers and the shared value types of
keepalived_py.config.values (Number, Decimal, OptBool ...), which give keepalived's
CONFIG_INVALID_NUMBER text, then the handler's own, and return the value keepalived would
end up with.

Entry types (track_interface, track_script, unicast_peer, ...) parse one line of their
block into a small frozen value whose `format()` writes a canonical line that parses back
equal.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from keepalived_py.config import numbers
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.schema import Ctx, ValueProblem, ValueType, _quote
from keepalived_py.config.values import NotifyScript, NotifyScriptType, inet_stosockaddr, say
from keepalived_py.errors import SourcePos

IFNAMSIZ = 16

class IfName(ValueType):
    """An interface name; keepalived ignores names of IFNAMSIZ characters or more."""

    def __init__(self, error: str = "Interface name '{v}' too long - ignoring"):
        self.error = error

    def parse(self, args, ctx):
        if len(args[0]) >= IFNAMSIZ:
            raise ValueProblem(say(self.error, ctx, v=args[0]))
        return args[0]

    def format(self, value):
        return [_quote(value)]


# --------------------------------------------------------------------------- scripts
@dataclass(frozen=True, slots=True)
class NotifyDeleted:
    """notify_deleted [script]: send DELETED rather than FAULT, and optionally run a script."""

    script: NotifyScript | None = None


class NotifyDeletedType(ValueType):
    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        if not args:
            return NotifyDeleted()
        return NotifyDeleted(NotifyScriptType().parse(args, ctx))

    def format(self, value):
        return NotifyScriptType().format(value.script) if value.script else []


# --------------------------------------------------------------------------- track entries
@dataclass(frozen=True, slots=True)
class TrackRef:
    """One line of a track_interface/track_script/track_file/track_process/track_bfd block.

    `weight` None: the tracked object's own weight (track_interface: 0); `reverse` None: the
    object's own setting (False for track_interface).
    """

    name: str
    weight: int | None = None
    reverse: bool | None = None
    pos: SourcePos | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class _TrackRules:
    what: str  # for messages: "track script", "track_interface", ...
    lo: int
    hi: int
    clamp_254: bool  # +/-254 accepted but set to +/-253 (interface, script)
    noreverse: bool  # 'noreverse' accepted
    bad_option_drops: bool  # an unknown 4th word drops the entry


_RULES = {
    "interface": _TrackRules("track_interface", -254, 254, True, False, False),
    "script": _TrackRules("track script", -254, 254, True, True, False),
    "file": _TrackRules("track file", -254, 254, False, True, True),
    "process": _TrackRules("track process", -254, 254, False, True, False),
    "bfd": _TrackRules("track bfd", -253, 253, False, True, True),
}


class TrackEntry(ValueType):
    """`NAME [weight N [reverse|noreverse]]`, with keepalived's per-kind rules (vrrp_track.c,
    track_file.c)."""

    max_args = None

    def __init__(self, kind: str):
        self.kind = kind
        self.rules = _RULES[kind]

    def parse(self, args, ctx):
        rules = self.rules
        name = args[0]
        weight: int | None = None
        reverse: bool | None = None
        if len(args) >= 2:
            if args[1] != "weight":
                if self.kind == "interface":
                    raise ValueProblem(say("({n}) unknown track_interface {t} option {o} - ignoring", ctx,
                                           t=name, o=args[1]))
                if self.kind == "bfd":
                    raise ValueProblem(say("({n}) unknown track bfd {t} option {o} - ignoring", ctx,
                                           t=name, o=args[1]))
                raise ValueProblem(say("({n}) unknown {w} option {o} - ignoring", ctx, w=rules.what, o=args[1]))
            if len(args) == 2:
                raise ValueProblem(say("({n}) weight without value specified for {w} {t} - ignoring", ctx,
                                       w=rules.what, t=name))
            value = numbers.read_int(args[2], rules.lo, rules.hi).take(ctx)
            if value is None:
                if self.kind == "interface":
                    ctx.warn(say("({n}) weight {v} for {t} must be between [-253..253] inclusive. Ignoring...",
                                 ctx, v=args[2], t=name), ConfigErr.GENERAL_ERROR)
                elif self.kind == "script":
                    ctx.warn(say("({n}) track script {t}: weight must be between [-253..253] inclusive, "
                                 "ignoring...", ctx, t=name), ConfigErr.GENERAL_ERROR)
                else:
                    ctx.warn(say("({n}) weight for {w} {t} must be in [{lo}..{hi}] inclusive. Ignoring...", ctx,
                                 w=rules.what, t=name, lo=rules.lo, hi=rules.hi), ConfigErr.GENERAL_ERROR)
                weight = 0 if self.kind == "interface" else None
            elif rules.clamp_254 and value in (-254, 254):
                ctx.warn(say("({n}) weight for {t} cannot be +/-254. Setting to +/-253", ctx, t=name),
                         ConfigErr.GENERAL_ERROR)
                weight = 253 if value > 0 else -253
            else:
                weight = value
            if len(args) >= 4:
                opt = args[3]
                if opt == "reverse":
                    reverse = True
                elif opt == "noreverse" and rules.noreverse:
                    reverse = False
                else:
                    what = "track_interace" if self.kind == "interface" else rules.what.replace(" ", "_") \
                        if self.kind in ("script", "process") else rules.what
                    message = say("({n}) unknown {w} {t} weight option {o} - ignoring", ctx, w=what, t=name, o=opt)
                    if rules.bad_option_drops:
                        raise ValueProblem(message)
                    ctx.warn(message, ConfigErr.GENERAL_ERROR)
        return TrackRef(name, weight, reverse, ctx.pos)

    def format(self, value: TrackRef):
        words = [_quote(value.name)]
        if value.weight is not None or value.reverse is not None:
            words += ["weight", str(value.weight if value.weight is not None else 0)]
            if value.reverse is not None:
                words.append("reverse" if value.reverse else "noreverse")
        return words


class NameList(ValueType):
    """A line of names in a block read with read_value_block (sync group `group`, garp_group
    `interfaces`): every word is a name. The field's `check=flatten` makes one flat tuple."""

    max_args = None

    def parse(self, args, ctx):
        return tuple(args)

    def format(self, value):
        return [_quote(value)] if isinstance(value, str) else [_quote(w) for w in value]


def flatten(value: Sequence[Any], ctx: Ctx) -> tuple[str, ...]:
    out: list[str] = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        else:
            out.extend(item)
    return tuple(out)


# --------------------------------------------------------------------------- unicast, vmac
@dataclass(frozen=True, slots=True)
class UnicastPeer:
    """`ADDR [min_ttl N] [max_ttl N]`; giving either TTL turns on check_unicast_src."""

    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    min_ttl: int | None = None
    max_ttl: int | None = None
    pos: SourcePos | None = field(default=None, compare=False, repr=False)

    @property
    def ttl_range(self) -> tuple[int, int]:
        return (self.min_ttl if self.min_ttl is not None else 0,
                self.max_ttl if self.max_ttl is not None else 255)


class UnicastPeerEntry(ValueType):
    max_args = None

    def parse(self, args, ctx):
        text = args[0]
        addr = inet_stosockaddr(text)
        if addr is None:
            raise ValueProblem(say("Configuration error: VRRP instance[{n}] malformed unicast peer "
                                   "address[{t}]. Skipping...", ctx, t=text))
        ttls: dict[str, int] = {}
        i = 1
        while i < len(args):
            if i + 1 >= len(args):
                ctx.warn(say("({n}) {o} is missing a value", ctx, o=args[i]), ConfigErr.GENERAL_ERROR)
                break
            value = numbers.read_unsigned(args[i + 1], 0, 255).take(ctx)
            if value is not None:
                if args[i] not in ("min_ttl", "max_ttl"):
                    ctx.warn(say("({n}) unknown unicast_peer option {o}", ctx, o=args[i]), ConfigErr.GENERAL_ERROR)
                    break
                ttls[args[i]] = value
            i += 2
        peer = UnicastPeer(addr, ttls.get("min_ttl"), ttls.get("max_ttl"), ctx.pos)
        lo, hi = peer.ttl_range
        if lo > hi:
            ctx.warn(say("({n}) min_ttl {lo} > max_ttl {hi} - all packets will be discarded", ctx, lo=lo, hi=hi),
                     ConfigErr.GENERAL_ERROR)
        return peer

    def format(self, value: UnicastPeer):
        words = [str(value.address)]
        if value.min_ttl is not None:
            words += ["min_ttl", str(value.min_ttl)]
        if value.max_ttl is not None:
            words += ["max_ttl", str(value.max_ttl)]
        return words


def dev_name_valid(name: str) -> bool:
    """The kernel's dev_valid_name()."""
    if not name or len(name) >= IFNAMSIZ or name in (".", ".."):
        return False
    return not any(c in "/:" or c.isspace() for c in name)


_MAC_CHARS = re.compile(r"^[0-9A-Fa-f:]+$")


@dataclass(frozen=True, slots=True)
class UseVmac:
    """use_vmac [IFNAME] [MAC]; a 5-octet MAC takes the VRID as its last octet."""

    ifname: str | None = None
    mac: str | None = None


def parse_vmac_mac(text: str) -> tuple[int, ...] | None:
    """keepalived's VMAC MAC reading: 6 octets, or 5 (the VRID completes it). None if invalid."""
    parts = text.rstrip(":").split(":") if text.count(":") == 4 and text.endswith(":") else text.split(":")
    if len(parts) not in (5, 6) or any(not p or len(p) > 2 for p in parts):
        return None
    try:
        return tuple(int(p, 16) for p in parts)
    except ValueError:
        return None


class UseVmacType(ValueType):
    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        ifname = mac = None
        for word in args[:2]:
            if ":" in word:
                if mac is not None:
                    ctx.warn("VMAC interface address already specified", ConfigErr.GENERAL_ERROR)
                    continue
                if not _MAC_CHARS.match(word):
                    ctx.warn(f"VMAC invalid MAC address {word}", ConfigErr.GENERAL_ERROR)
                    continue
                octets = parse_vmac_mac(word)
                if octets is None:
                    ctx.warn(f"VMAC invalid MAC address {word} - ignored", ConfigErr.GENERAL_ERROR)
                elif octets[0] & 1:
                    ctx.warn(f"VMAC MAC address is multicast {word} - ignoring", ConfigErr.GENERAL_ERROR)
                elif octets[:4] == (0, 0, 0x5E, 0) and octets[4] in (1, 2):
                    ctx.warn(f"VMAC MAC address not allowed to be RFC5798 address ({word}) - ignoring",
                             ConfigErr.GENERAL_ERROR)
                else:
                    mac = ":".join(f"{o:02x}" for o in octets)
            else:
                if ifname is not None:
                    ctx.warn("VMAC interface name already specified", ConfigErr.GENERAL_ERROR)
                    continue
                if not dev_name_valid(word):
                    ctx.warn(f"VMAC interface name '{word}' too long or invalid characters - ignoring",
                             ConfigErr.GENERAL_ERROR)
                    continue
                ifname = word
        return UseVmac(ifname, mac)

    def format(self, value: UseVmac):
        words = []
        if value.ifname:
            words.append(value.ifname)
        if value.mac:
            words.append(value.mac)
        return words


@dataclass(frozen=True, slots=True)
class UseIpvlan:
    """use_ipvlan [IFNAME] [IP_ADDRESS[/LEN]] [bridge|private|vepa] (mode default bridge)."""

    ifname: str | None = None
    address: ipaddress.IPv4Interface | ipaddress.IPv6Interface | None = None
    mode: str | None = None


class UseIpvlanType(ValueType):
    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        ifname = address = mode = None
        for word in args:
            if word in ("bridge", "private", "vepa"):
                if mode is not None:
                    ctx.warn(say("({n}) ipvlan type already specified - ignoring '{w}'", ctx, w=word), ConfigErr.GENERAL_ERROR)
                else:
                    mode = word
                continue
            try:
                addr = ipaddress.ip_interface(word)
            except ValueError:
                addr = None
            if addr is not None:
                if address is not None:
                    ctx.warn(say("({n}) ipvlan address already specified - ignoring '{w}'", ctx, w=word), ConfigErr.GENERAL_ERROR)
                else:
                    address = addr
                continue
            if ifname is not None:
                ctx.warn(say("({n}) IPVLAN interface already specified - ignoring '{w}'", ctx, w=word), ConfigErr.GENERAL_ERROR)
            elif len(word) >= IFNAMSIZ:
                ctx.warn(say("({n}) IPVLAN interface name '{w}' too long - ignoring", ctx, w=word), ConfigErr.GENERAL_ERROR)
            else:
                ifname = word
        return UseIpvlan(ifname, address, mode)

    def format(self, value: UseIpvlan):
        words = []
        if value.ifname:
            words.append(value.ifname)
        if value.address is not None:
            words.append(value.address.with_prefixlen)
        if value.mode:
            words.append(value.mode)
        return words


class VrrpState(ValueType):
    """state MASTER|BACKUP (case sensitive); anything else is BACKUP with keepalived's error."""

    def parse(self, args, ctx):
        if args[0] in ("MASTER", "BACKUP"):
            return args[0]
        ctx.warn(say("({n}) unknown state '{v}', defaulting to BACKUP", ctx, v=args[0]), ConfigErr.GENERAL_ERROR)
        return "BACKUP"

    def format(self, value):
        return [value]


class AuthPass(ValueType):
    """auth_pass: keepalived keeps the first 8 characters."""

    def parse(self, args, ctx):
        if len(args[0]) > 8:
            ctx.warn("Truncating auth_pass to 8 characters", ConfigErr.GENERAL_ERROR)
        return args[0][:8]

    def format(self, value):
        return [_quote(value)]


class AuthType(ValueType):
    def parse(self, args, ctx):
        if args[0] not in ("PASS", "AH"):
            raise ValueProblem(say("({n}) unknown authentication type '{v}'", ctx, v=args[0]))
        return args[0]

    def format(self, value):
        return [value]


class WeightReverse(ValueType):
    """`weight N [reverse]` of vrrp_script / track_file / vrrp_track_process: (N, reverse)."""

    max_args = None

    def __init__(self, lo: int, hi: int, error: str, option_error: str, fallback: int | None,
                 missing: str | None = None):
        self.lo, self.hi, self.error, self.option_error = lo, hi, error, option_error
        self.fallback = fallback
        self.missing = missing
        if missing:
            self.min_args = 0

    def parse(self, args, ctx):
        if not args:
            raise ValueProblem(say(self.missing, ctx) if self.missing else f"{ctx.keyword}: missing value")
        weight = numbers.read_int(args[0], self.lo, self.hi).take(ctx)
        if weight is None:
            if self.fallback is None:
                raise ValueProblem(say(self.error, ctx, v=args[0]))
            ctx.warn(say(self.error, ctx, v=args[0]), ConfigErr.GENERAL_ERROR)
            weight = self.fallback
        reverse = False
        if len(args) >= 2:
            if args[1] == "reverse":
                reverse = True
            else:
                ctx.warn(say(self.option_error, ctx, v=args[1]), ConfigErr.GENERAL_ERROR)
        return (weight, reverse)

    def format(self, value):
        return [str(value[0])] + (["reverse"] if value[1] else [])


class InitFile(ValueType):
    """track_file init_file [VALUE] [overwrite]: (value, overwrite)."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        value = 0
        overwrite = False
        for word in args:
            text = word.lstrip(" \t")
            if text[:1] in "0123456789-" and text:
                number = numbers.read_int(word).take(ctx)
                if number is None:
                    ctx.warn(say("Track file {n} init value {t} is invalid", ctx, t=text), ConfigErr.GENERAL_ERROR)
                    number = 0
                elif not -254 <= number <= 254:
                    ctx.warn(say("Track file {n} init value {v} is outside sensible range [-254, 254]", ctx,
                                 v=number), ConfigErr.GENERAL_ERROR)
                value = number
            elif text == "overwrite":
                overwrite = True
            else:
                ctx.warn(f"Unknown track file init option {text}", ConfigErr.GENERAL_ERROR)
        return (value, overwrite)

    def format(self, value):
        return [str(value[0])] + (["overwrite"] if value[1] else [])


class ProcessCommand(ValueType):
    """vrrp_track_process process NAME [PARAM ...]: the words as a tuple."""

    max_args = None

    def parse(self, args, ctx):
        return tuple(args)

    def format(self, value):
        return [_quote(w) for w in value]


def warn_with(message: str, code: ConfigErr = ConfigErr.GENERAL_ERROR):
    """A `check=` that reports keepalived's message for a keyword it accepts but warns about."""

    def check(value, ctx: Ctx):
        ctx.warn(say(message, ctx), code)
        return value

    return check
