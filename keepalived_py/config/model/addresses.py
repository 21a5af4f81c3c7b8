"""Address, route and rule entries shared by static_* blocks and vrrp_instance blocks."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from keepalived_py.config.schema import Ctx, ValueProblem, ValueType
from keepalived_py.errors import SourcePos


@dataclass(frozen=True, slots=True)
class VirtualAddress:
    """One line of virtual_ipaddress / static_ipaddress: `ADDR[/LEN] [dev IF] [options...]`."""

    address: ipaddress.IPv4Interface | ipaddress.IPv6Interface
    dev: str | None = None
    options: tuple[str, ...] = ()
    pos: SourcePos | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VirtualAddress):
            return NotImplemented
        return (self.address, self.dev, self.options) == (other.address, other.dev, other.options)

    def __hash__(self) -> int:
        return hash((self.address, self.dev, self.options))


class VirtualAddressEntry(ValueType):
    """Parses one address line (to be completed with every option keepalived.conf(5) lists)."""

    max_args = None

    def parse(self, args, ctx: Ctx) -> VirtualAddress:
        text = args[0]
        try:
            address = ipaddress.ip_interface(text)
        except ValueError:
            raise ValueProblem(f"Invalid address '{text}'") from None
        dev = None
        rest = list(args[1:])
        if len(rest) >= 2 and rest[0] == "dev":
            dev = rest[1]
            rest = rest[2:]
        return VirtualAddress(address, dev, tuple(rest), ctx.pos)

    def format(self, value: VirtualAddress) -> list[str]:
        words = [value.address.with_prefixlen]
        if value.dev:
            words += ["dev", value.dev]
        return words + list(value.options)


@dataclass(frozen=True, slots=True)
class RouteOrRule:
    """One line of virtual_routes / static_routes / virtual_rules / static_rules (words, to be typed)."""

    words: tuple[str, ...]
    pos: SourcePos | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RouteOrRule):
            return NotImplemented
        return self.words == other.words

    def __hash__(self) -> int:
        return hash(self.words)


class RouteEntry(ValueType):
    max_args = None

    def parse(self, args, ctx: Ctx) -> RouteOrRule:
        return RouteOrRule(tuple(args), ctx.pos)

    def format(self, value: RouteOrRule) -> list[str]:
        return list(value.words)


RuleEntry = RouteEntry
