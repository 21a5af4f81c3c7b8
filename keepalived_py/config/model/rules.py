"""virtual_rules / static_rules lines (`ip rule add` syntax), as keepalived 2.2.7 reads them.

The option syntax and messages follow keepalived's alloc_rule() (vrrp_iprule.c). Each
selector and action has one entry in `RULE_OPTIONS` (word -> handler); any other word is
an action (`[type] goto N | nop | blackhole | unreachable | prohibit`). Names from
/etc/iproute2 (table, dsfield, realms, group) and from /etc/protocols (ipproto) are
numbers in the model.
"""

from __future__ import annotations

import dataclasses
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from keepalived_py.config.model.ipline import (
    GE,
    U32_MAX,
    U64_MAX,
    Line,
    Words,
    check_family,
    family_of,
    inet,
    parse_prefix,
    unsigned,
)
from keepalived_py.config.model.iproute2 import (
    RTN_BLACKHOLE,
    RTN_PROHIBIT,
    RTN_UNREACHABLE,
    RTPROT_KEEPALIVED,
    format_realms,
    realms,
    rtn_type,
)
from keepalived_py.config.numbers import WHITE_SPACE, strtoul
from keepalived_py.config.schema import Ctx, ValueProblem, ValueType, _quote
from keepalived_py.errors import SourcePos

#: the preference keepalived gives the first rule without one (vrrp_iprule.c)
RULE_START_PRIORITY = 16384
#: FR_ACT_* (linux/fib_rules.h)
FR_ACT_TO_TBL, FR_ACT_GOTO, FR_ACT_NOP = 1, 2, 3
FR_ACT_BLACKHOLE, FR_ACT_UNREACHABLE, FR_ACT_PROHIBIT = 6, 7, 8
ACTION_NAMES = {FR_ACT_GOTO: "goto", FR_ACT_NOP: "nop", FR_ACT_BLACKHOLE: "blackhole",
                FR_ACT_UNREACHABLE: "unreachable", FR_ACT_PROHIBIT: "prohibit"}
_RTN_TO_ACTION = {RTN_BLACKHOLE: FR_ACT_BLACKHOLE, RTN_UNREACHABLE: FR_ACT_UNREACHABLE,
                  RTN_PROHIBIT: FR_ACT_PROHIBIT}


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of virtual_rules / static_rules (`ip rule add` syntax).

    The action is `table` (lookup), `l3mdev`, or `action`: goto/nop/blackhole/unreachable/prohibit.
    """

    from_: str | None = None
    to: str | None = None
    family: int | None = None  # given by 'inet'/'inet6'
    table: int | None = None
    action: int | None = None  # FR_ACT_* other than TO_TBL (None: table/l3mdev)
    goto: int | None = None
    invert: bool = False  # 'not'
    preference: int | None = None
    tos: int | None = None
    fwmark: int | None = None
    fwmask: int | None = None
    realms: int | None = None
    suppress_prefixlength: int | None = None
    suppress_ifgroup: int | None = None
    iif: str | None = None
    oif: str | None = None
    tunnel_id: int | None = None
    uidrange: tuple[int, int] | None = None
    l3mdev: bool = False
    protocol: int | None = None  # as written; see kernel_protocol
    ipproto: int | None = None
    sport: tuple[int, int] | None = None
    dport: tuple[int, int] | None = None
    no_track: bool = False
    track_group: str | None = None
    pos: SourcePos | None = field(default=None, compare=False)

    @property
    def ip_family(self) -> int:
        for fam in (self.family, family_of(self.from_), family_of(self.to)):
            if fam:
                return fam
        return 4

    @property
    def kernel_action(self) -> int:
        return FR_ACT_TO_TBL if self.action is None else self.action

    @property
    def kernel_protocol(self) -> int | None:
        """FRA_PROTOCOL as keepalived sends it: RTPROT_KEEPALIVED for a tracked rule ("resetting
        protocol"), the written protocol (or none) for a no_track rule."""
        return self.protocol if self.no_track else RTPROT_KEEPALIVED

    def interfaces(self) -> tuple[str, ...]:
        return tuple(n for n in (self.iif, self.oif) if n)

    @staticmethod
    def interface_message(ifname: str) -> str:
        return f"WARNING - interface {ifname} for rule doesn't exist"


def port_range(text: str) -> tuple[int, int] | None:
    """sscanf("%hu-%hu"): keepalived 2.2.7 accepts only a range (a single port fails its count check)."""
    m = re.match(r"^\s*\+?(\d+)(?:-\+?(\d+))?", text)
    if not m or m.group(2) is None:
        return None
    return int(m.group(1)) & 0xFFFF, int(m.group(2)) & 0xFFFF


def ipproto(text: str) -> int | None:
    """keepalived's inet_proto_a2n: a number up to 127, or a name from /etc/protocols (a word that
    does not read wholly as a number is looked up by name)."""
    body = text.lstrip(WHITE_SPACE)
    if not body or body[0] == "-":
        return None
    num = strtoul(body, 10)
    if num.value > 127:
        return None
    if not num.rest:
        return num.value
    try:
        return socket.getprotobyname(body)
    except OSError:
        return None


def fwmark(text: str) -> tuple[int, int | None] | None:
    """`MARK[/MASK]` as keepalived reads it (strtoul base 0 on each part); None if invalid."""
    body = text.lstrip(WHITE_SPACE)
    if body.startswith("-"):
        return None
    mark = strtoul(body, 0)
    if mark.value > U32_MAX:
        return None
    rest, mask = mark.rest, None
    if rest.startswith("/"):
        after = rest[1:]
        if after[:1].isspace() or after[:1] == "-":
            return None
        second = strtoul(after, 0)
        if second.value > U32_MAX:
            return None
        rest, mask = second.rest, second.value
    if rest:
        return None
    return mark.value, mask


# --------------------------------------------------------------------------- the line parser
class _Line(Line):
    """What one rule line has settled so far."""

    def __init__(self, words: Words):
        super().__init__(words)
        self.table_option = False  # realms/suppress_*: only with a table action
        self.have_action = False

    def set_action(self) -> None:
        if self.have_action:
            raise ValueProblem("Cannot specify more than one of table/nop/goto/blackhole/prohibit/"
                               "unreachable/l3mdev for rule")
        self.have_action = True


Handler = Callable[[_Line, str], None]


def _address(line: _Line, word: str) -> None:
    text = line.words.take()
    parsed = parse_prefix(text, line.ctx)
    if parsed is None:
        raise ValueProblem(f"Invalid rule {word} address {text}")
    line.family = check_family(line.family, parsed[1], "rule specification has mixed IPv4 and IPv6")
    if text == "default6":
        line.explicit = 6
    line.values["from_" if word == "from" else "to"] = parsed[0]


def _table(line: _Line, word: str) -> None:
    num = line.words.named("rt_tables", "Routing table {text} not found for rule")
    if num == 0:
        raise ValueProblem("Table 0 is not valid")
    line.set_action()
    line.values["table"] = num


def _not(line: _Line, word: str) -> None:
    line.values["invert"] = True


def _preference(line: _Line, word: str) -> None:
    value = unsigned(line.words.take(), U32_MAX, line.ctx, 0)
    if value is None:
        raise ValueProblem(f"Invalid rule preference {word} specified")
    line.values["preference"] = value


def _tos(line: _Line, word: str) -> None:
    line.values["tos"] = line.words.named("rt_dsfield", "TOS value {text} is invalid")


def _fwmark(line: _Line, word: str) -> None:
    text = line.words.take()
    parsed = fwmark(text)
    if parsed is None:
        raise ValueProblem(f"Invalid rule fwmark {text} specified")
    line.values["fwmark"] = parsed[0]
    if parsed[1] is not None:
        line.values["fwmask"] = parsed[1]


def _realms(line: _Line, word: str) -> None:
    text = line.words.take()
    value = realms(text)
    if value is None:
        raise ValueProblem(f"invalid realms {text} for rule")
    line.table_option = True
    if line.family is not None and line.family != 4:
        raise ValueProblem("realms is only valid for IPv4")
    line.family = 4
    line.values["realms"] = value


def _suppress_prefixlength(line: _Line, word: str) -> None:
    value = unsigned(line.words.take(), 0x7FFFFFFF, line.ctx)
    if value is None:
        raise ValueProblem(f"Invalid suppress_prefixlength {word} specified")
    line.values["suppress_prefixlength"] = value
    line.table_option = True


def _suppress_ifgroup(line: _Line, word: str) -> None:
    line.values["suppress_ifgroup"] = line.words.named("group", "suppress_group {text} is invalid")
    line.table_option = True


def _ifname(name: str) -> Handler:
    def handler(line: _Line, word: str) -> None:
        line.values[name] = line.words.take()
    return handler


def _tunnel_id(line: _Line, word: str) -> None:
    value = unsigned(line.words.take(), U64_MAX, line.ctx)
    if value is None:
        raise ValueProblem(f"Invalid tunnel-id {word} specified")
    line.values["tunnel_id"] = value


def _uidrange(line: _Line, word: str) -> None:
    m = re.match(r"^\s*(\d+)-\s*(\d+)", line.words.take())
    if not m or int(m.group(1)) > U32_MAX or int(m.group(2)) > U32_MAX:
        raise ValueProblem(f"Invalid uidrange {word} specified")
    line.values["uidrange"] = (int(m.group(1)), int(m.group(2)))


def _l3mdev(line: _Line, word: str) -> None:
    if line.have_action:
        raise ValueProblem("Cannot specify l3mdev with other action")
    line.have_action = True
    line.values["l3mdev"] = True


def _reported(name: str | None, read: Callable[[str, _Line], object], message: str) -> Handler:
    """An option keepalived reports and ignores when its value is bad (the line stays); `name`
    None: the field is the option's word."""

    def handler(line: _Line, word: str) -> None:
        text = line.words.take()
        value = read(text, line)
        if value is None:
            line.ctx.warn(message.format(word=word, text=text), GE)
        else:
            line.values[name or word] = value

    return handler


def _no_track(line: _Line, word: str) -> None:
    line.values["no_track"] = True


def _action(line: _Line, word: str) -> None:
    """Any other word: `[type] goto N | nop | blackhole | unreachable | prohibit` (or a type number)."""
    if word == "type":
        word = line.words.take()
    if word == "goto":
        value = unsigned(line.words.take(), U32_MAX, line.ctx)
        if value is None:
            raise ValueProblem(f"Invalid target {word} specified")
        line.values["goto"] = value
        action = FR_ACT_GOTO
    elif word == "nop":
        action = FR_ACT_NOP
    else:
        rtn = rtn_type(word)
        if rtn is None:
            raise ValueProblem(f"Unknown rule option {word}")
        if rtn not in _RTN_TO_ACTION:
            raise ValueProblem(f"Invalid rule action {word}")
        action = _RTN_TO_ACTION[rtn]
    line.set_action()
    line.values["action"] = action


#: every rule selector and action keepalived 2.2.7 knows, by its word (track_group: static only)
RULE_OPTIONS: dict[str, Handler] = {
    "inet": inet("rule"), "inet6": inet("rule"),
    "from": _address, "to": _address,
    "table": _table, "lookup": _table,
    "not": _not,
    "preference": _preference, "order": _preference, "priority": _preference,
    "tos": _tos, "dsfield": _tos,
    "fwmark": _fwmark,
    "realms": _realms,
    "suppress_prefixlength": _suppress_prefixlength, "sup_pl": _suppress_prefixlength,
    "suppress_ifgroup": _suppress_ifgroup, "sup_group": _suppress_ifgroup,
    "dev": _ifname("iif"), "iif": _ifname("iif"), "oif": _ifname("oif"),
    "tunnel-id": _tunnel_id,
    "uidrange": _uidrange,
    "l3mdev": _l3mdev,
    "protocol": _reported("protocol", lambda text, line: unsigned(text, 255, line.ctx), "Invalid protocol {text}"),
    "ipproto": _reported("ipproto", lambda text, line: ipproto(text), "Invalid ipproto {text}"),
    "sport": _reported(None, lambda text, line: port_range(text), "invalid {word} range {text}"),
    "dport": _reported(None, lambda text, line: port_range(text), "invalid {word} range {text}"),
    "no_track": _no_track,
}


class _DefaultPreferences:
    """keepalived's next_rule_priority_ipv4/_ipv6: a rule without preference gets RULE_START_PRIORITY,
    the next one of its family one less, counted over one configuration load (keepalived resets
    them on a reload). A load is told apart by its Diagnostics object; only the latest is kept."""

    def __init__(self) -> None:
        self.load: object | None = None
        self.next: dict[int, int] = {}

    def take(self, load: object, family: int) -> int:
        if load is not self.load:
            self.load, self.next = load, {4: RULE_START_PRIORITY, 6: RULE_START_PRIORITY}
        value = self.next[family]
        self.next[family] = value - 1
        return value


_defaults = _DefaultPreferences()


def _default_preference(ctx: Ctx, family: int) -> int:
    return _defaults.take(ctx.diagnostics, family)


class RuleEntry(ValueType):
    """One rule line; `static=True` for static_rules (accepts track_group)."""

    max_args = None

    def __init__(self, static: bool = False):
        self.static = static

    def parse(self, args, ctx: Ctx) -> Rule:
        line = _Line(Words(args, ctx))
        line.read(RULE_OPTIONS, _action, self.static)
        rule = Rule(family=line.explicit, pos=ctx.pos, **line.values)  # type: ignore[arg-type]
        if rule.action == FR_ACT_GOTO:
            if rule.preference is None:
                raise ValueProblem(f"Invalid rule - goto target {rule.goto} specified without preference")
            if rule.preference >= (rule.goto or 0):
                raise ValueProblem(f"Invalid rule - preference {rule.preference} >= goto target {rule.goto}")
        if not line.have_action:
            raise ValueProblem("No action specified for rule - ignoring")
        if line.table_option and rule.table is None and not rule.l3mdev:
            raise ValueProblem("suppressor/realm specified for non table action - skipping")
        if rule.table is not None and rule.l3mdev:
            raise ValueProblem("table cannot be specified for l3mdev rules")
        if not rule.no_track and rule.protocol is not None and rule.protocol != RTPROT_KEEPALIVED:
            ctx.warn(f"Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED({RTPROT_KEEPALIVED}), "
                     "resetting protocol", GE)
        if rule.track_group is not None and rule.iif is None:
            ctx.warn("Static rule cannot have track_group if dev/iif not specified", GE)
        if rule.preference is None:
            preference = _default_preference(ctx, rule.ip_family)
            ctx.warn(f"Rule has no preference specified - setting to {preference}. This is probably not what "
                     "you want.", GE)
            rule = dataclasses.replace(rule, preference=preference)
        return rule

    def format(self, value: Rule) -> list[str]:
        out: list[str] = []
        if value.invert:
            out.append("not")
        if value.from_ is not None:
            out += ["from", value.from_]
        if value.to is not None:
            out += ["to", value.to]
        if value.preference is not None:
            out += ["preference", str(value.preference)]
        if value.tos is not None:
            out += ["tos", str(value.tos)]
        if value.fwmark is not None:
            out += ["fwmark", f"{value.fwmark}" + (f"/{value.fwmask}" if value.fwmask is not None else "")]
        if value.realms is not None:
            out += ["realms", format_realms(value.realms)]
        for name in ("suppress_prefixlength", "suppress_ifgroup"):
            item = getattr(value, name)
            if item is not None:
                out += [name, str(item)]
        if value.iif is not None:
            out += ["iif", _quote(value.iif)]
        if value.oif is not None:
            out += ["oif", _quote(value.oif)]
        if value.tunnel_id is not None:
            out += ["tunnel-id", str(value.tunnel_id)]
        if value.uidrange is not None:
            out += ["uidrange", f"{value.uidrange[0]}-{value.uidrange[1]}"]
        for name in ("protocol", "ipproto"):
            item = getattr(value, name)
            if item is not None:
                out += [name, str(item)]
        for name in ("sport", "dport"):
            rng = getattr(value, name)
            if rng is not None:
                out += [name, f"{rng[0]}-{rng[1]}"]
        if value.no_track:
            out.append("no_track")
        if value.track_group is not None:
            out += ["track_group", _quote(value.track_group)]
        if value.table is not None:
            out += ["table", str(value.table)]
        if value.l3mdev:
            out.append("l3mdev")
        if value.action == FR_ACT_GOTO:
            out += ["goto", str(value.goto)]
        elif value.action is not None:
            out.append(ACTION_NAMES[value.action])
        if value.family is not None:  # last: keepalived steps over the word after it
            out.append("inet6" if value.family == 6 else "inet")
        return out


class StaticRuleEntry(RuleEntry):
    """static_rules line (accepts track_group)."""

    def __init__(self) -> None:
        super().__init__(static=True)
