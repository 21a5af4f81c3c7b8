"""virtual_server_group (keepalived.conf(5) 'LVS CONFIGURATION'): its address ranges and
fwmark entries, as keepalived 2.2.7's check_parser.c reads them. Apart from config/model/lvs.py
so each model module stays one concept; lvs.py re-exports these names."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from keepalived_py.config import numbers
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.numbers import UINT_MAX
from keepalived_py.config.schema import Ctx, Model, ValueProblem, ValueType, Word, body, head, model
from keepalived_py.config.values import inet_pton
from keepalived_py.errors import SourcePos

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

def port_word(word: str | None, ctx: Ctx) -> int | None:
    """A port as keepalived reads it: all zeros means none; otherwise 1..65535 or ValueError
    (after read_unsigned's message)."""
    if word is None or (word and not word.strip("0")):
        return None
    value = numbers.read_unsigned(word, 1, 65535).take(ctx)
    if value is None:
        raise ValueError(word)
    return value


# --------------------------------------------------------------------------- virtual_server_group
@dataclass(frozen=True, slots=True, eq=False)
class VsgRange:
    """An address entry of a virtual_server_group: one address (start == end) or an inclusive range."""

    start: IPAddress
    end: IPAddress
    port: int | None = None
    pos: SourcePos | None = None

    def _key(self) -> tuple:
        return (self.start, self.end, self.port)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VsgRange):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def family(self) -> int:
        return self.start.version

    def addresses(self) -> list[IPAddress]:
        """Every address of the range (keepalived adds one IPVS service per address)."""
        return [ipaddress.ip_address(int(self.start) + i) for i in range(int(self.end) - int(self.start) + 1)]


@dataclass(frozen=True, slots=True, eq=False)
class VsgFwmark:
    """`fwmark N [inet|inet6]` entry of a virtual_server_group."""

    fwmark: int
    family: str | None = None
    pos: SourcePos | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VsgFwmark):
            return NotImplemented
        return (self.fwmark, self.family) == (other.fwmark, other.family)

    def __hash__(self) -> int:
        return hash((self.fwmark, self.family))


VsgEntry = VsgRange | VsgFwmark


class VsgEntryType(ValueType):
    """One line of a virtual_server_group, as keepalived's alloc_vsg_entry reads it."""

    max_args = None

    def parse(self, args, ctx: Ctx) -> VsgEntry:
        if args[0] == "fwmark":
            return self._fwmark(args, ctx)
        return self._range(args, ctx)

    @staticmethod
    def _fwmark(args, ctx: Ctx) -> VsgFwmark:
        if len(args) < 2:
            raise ValueProblem("*** Configuration line starting `fwmark` is missing a parameter after keyword "
                               "`fwmark` at word position 2", ConfigErr.MISSING_PARAMETER)
        word = args[1]
        mark = numbers.read_unsigned(word, 0, UINT_MAX).take(ctx)
        if mark is None:
            raise ValueProblem(f"fwmark '{word}' must be in [0, {UINT_MAX}] - ignoring")
        family = None
        if len(args) > 2:
            family = args[2]
            if family not in ("inet", "inet6"):
                raise ValueProblem(f"fwmark '{word}' family {family} unknown - ignoring")
        return VsgFwmark(mark, family, ctx.pos)

    @staticmethod
    def _range(args, ctx: Ctx) -> VsgRange:
        text = args[0]
        port_text = args[1] if len(args) > 1 else None
        family = 6 if ":" in text else 4
        cut = min((i for i in (text.find("-"), text.find("/")) if i >= 0), default=len(text))
        try:
            port = port_word(port_text, ctx)
            start = inet_pton(text[:cut])
        except ValueError:
            extra = f" /port/{port_text}" if port_text and port_text.strip("0") else ""
            raise ValueProblem(f"Invalid virtual server group IP address {text}{extra} - skipping") from None
        bits = start.max_prefixlen
        if "/" in text:
            mask = numbers.strtoul(text.split("/", 1)[1])
            if mask.rest or not 0 < mask.value <= bits:
                raise ValueProblem(f"Invalid netmask - {text} - skipping")
            host = (1 << (bits - mask.value)) - 1
            if int(start) & host:
                raise ValueProblem(f"Address mask bits not empty - {text} - skipping")
            return VsgRange(start, ipaddress.ip_address(int(start) | host), port, ctx.pos)
        if "-" not in text:
            return VsgRange(start, start, port, ctx.pos)
        end_text = text[cut + 1:]
        if ("." if family == 4 else ":") in end_text:
            try:
                end = inet_pton(end_text.split("-")[0].split("/")[0])
            except ValueError:
                raise ValueProblem(f"Invalid range end {text} - skipping") from None
            if end.version != start.version:
                raise ValueProblem(f"Range address families do not match {text} - skipping")
            if int(end) < int(start):
                raise ValueProblem(f"Address range end is less than address range start - {text} - skipping")
            return VsgRange(start, end, port, ctx.pos)
        # short form: the last octet (IPv4, decimal) or last 16-bit group (IPv6, hex)
        # keepalived's inet_stor(): strtoul in base 16 (IPv6) or 10
        end_word = numbers.strtoul(end_text, 16 if family == 6 else 10)
        if end_word.rest:
            raise ValueProblem(f"Virtual server group range '{text}' has extra characters at end '{end_word.rest}'",
                               ConfigErr.INVALID_NUMBER)
        last = end_word.value
        field_bits = 16 if family == 6 else 8
        if end_word.erange or last >= 1 << field_bits:
            raise ValueProblem(f"Virtual server group range '{text}' end '{end_text}' too large",
                               ConfigErr.INVALID_NUMBER)
        low = int(start) & ((1 << field_bits) - 1)
        if low >= last:
            raise ValueProblem(f"Address range end is not greater than address range start - {text} - skipping")
        end = ipaddress.ip_address((int(start) & ~((1 << field_bits) - 1)) | last)
        return VsgRange(start, end, port, ctx.pos)

    def format(self, value: VsgEntry) -> list[str]:
        if isinstance(value, VsgFwmark):
            return ["fwmark", str(value.fwmark)] + ([value.family] if value.family else [])
        text = str(value.start) if value.start == value.end else f"{value.start}-{value.end}"
        return [text] + ([str(value.port)] if value.port else [])


@model
class VirtualServerGroup(Model):
    block_keyword = "virtual_server_group"

    name: str = head(Word(), default="")
    entries: tuple[VsgEntry, ...] = body(VsgEntryType())

    @property
    def ranges(self) -> tuple[VsgRange, ...]:
        return tuple(e for e in self.entries if isinstance(e, VsgRange))

    @property
    def fwmarks(self) -> tuple[VsgFwmark, ...]:
        return tuple(e for e in self.entries if isinstance(e, VsgFwmark))

    @property
    def have_ipv4(self) -> bool:
        return any(e.family == 4 for e in self.ranges) or any(f.family == "inet" for f in self.fwmarks)

    @property
    def have_ipv6(self) -> bool:
        return any(e.family == 6 for e in self.ranges) or any(f.family == "inet6" for f in self.fwmarks)

    @property
    def fwmark_no_family(self) -> bool:
        return any(f.family is None for f in self.fwmarks)


