"""IPVS's fourteen schedulers as pure functions of a destination list and a request.

Pure (no clock, no sockets, no randomness of its own): `now` and a `rand` source come in
with each `Request`, so the tests drive every algorithm exhaustively and the userspace
dataplane (lvs.userspace.balancer) makes the same choices the kernel would. Written from
the kernel's net/netfilter/ipvs/ip_vs_{rr,wrr,lc,wlc,lblc,lblcr,dh,sh,sed,nq,fo,ovf,mh,twos}.c,
including what a reader may not expect:
- the kernel keeps a service's destinations newest first (list_add_rcu at the head), and
  every tie goes to the earlier one in that list: `dests` here are in that order;
- the least-connection family weighs a connection as IPVS's overhead, active*256 + inactive
  (sed / nq count active + 1 only); weight 0 or the OVERLOAD flag (u_threshold) = no new
  connections;
- sh and dh fill 256 buckets (sh: `weight` consecutive buckets per destination, dh: one),
  indexed by the kernel's hash_32 (top 8 bits of x * 0x61C88647) of the host-order address
  (IPv6 folded by xor of its 32-bit words), plus the source port for sh-port;
- mh is Maglev with the kernel's default table of 4093 entries, its fixed hsiphash keys
  (SipHash-1-3) and its turns = (last_weight / gcd) >> rshift;
- lblc / lblcr remember per destination address (the VIP the client reached) for 24 hours.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from keepalived_py.lvs.table import SVC_F_SCHED1, SVC_F_SCHED2, DestKey

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos")
#: sysctl lblc_expiration / lblcr_expiration default (24 h)
LOCALITY_EXPIRATION = 24 * 60 * 60.0
HASH_TAB_SIZE = 256
#: primes[CONFIG_IP_VS_MH_TAB_INDEX - 8] with the default index 12
MH_TAB_SIZE = 4093
MH_TAB_BITS = 6
GOLDEN_RATIO_32 = 0x61C88647
U32 = 0xFFFFFFFF
U64 = 0xFFFFFFFFFFFFFFFF


@dataclass(eq=False, slots=True)
class DestState:
    """A destination as the schedulers see it: its attributes and its live counters."""

    key: DestKey
    weight: int = 1
    u_threshold: int = 0
    l_threshold: int = 0
    #: the last positive weight (mh keeps a quiesced server's place in its table)
    last_weight: int = 1
    active: int = 0
    inactive: int = 0
    persistent: int = 0
    overloaded: bool = False
    #: the address as text, for the proxies' connect (formatting it per connection was 3%
    #: of the new-connection path)
    host: str = field(init=False, default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.weight > 0:
            self.last_weight = self.weight
        self.host = str(self.key.address)

    @property
    def overhead(self) -> int:
        """ip_vs_dest_conn_overhead: an active connection costs 256 inactive ones."""
        return (self.active << 8) + self.inactive

    @property
    def total(self) -> int:
        return self.active + self.inactive

    def usable(self) -> bool:
        return self.weight > 0 and not self.overloaded

    def update_overload(self) -> None:
        """The OVERLOAD flag as ip_vs_bind_dest / ip_vs_unbind_dest keep it."""
        if self.u_threshold and self.total >= self.u_threshold:
            self.overloaded = True
        elif self.overloaded:
            if self.l_threshold:
                if self.total < self.l_threshold:
                    self.overloaded = False
            elif self.u_threshold:
                if self.total * 4 < self.u_threshold * 3:
                    self.overloaded = False
            else:
                self.overloaded = False


@dataclass(frozen=True, slots=True)
class Change:
    """What happened to a service's destination list: "add" (at the head, index 0), "del"
    (at `index`, before removal) or "set" (attributes changed in place)."""

    kind: str
    index: int
    dest: DestState


@dataclass(frozen=True, slots=True)
class Request:
    """What a scheduler may look at: the client's address and port, the address it reached,
    the time and a source of 32-bit random numbers (twos)."""

    saddr: IPAddress
    sport: int = 0
    daddr: IPAddress | None = None
    now: float = 0.0
    rand: Callable[[], int] = field(default=lambda: 0)


def hash_32(value: int, bits: int = 8) -> int:
    """linux/hash.h hash_32: the top `bits` bits of value * GOLDEN_RATIO_32 (32-bit)."""
    return ((value * GOLDEN_RATIO_32) & U32) >> (32 - bits)


def fold(addr: IPAddress) -> int:
    """The host-order 32-bit value the hashing schedulers use (IPv6: xor of its words)."""
    value = int(addr)
    if addr.version == 4:
        return value
    return (value >> 96 ^ value >> 64 ^ value >> 32 ^ value) & U32


class Scheduler:
    """One service's scheduler state. `changed` is called after every destination add,
    removal or update (the kernel's add_dest / del_dest / upd_dest)."""

    name = ""

    def __init__(self, flags: int = 0) -> None:
        self.flags = flags

    def changed(self, dests: Sequence[DestState], change: Change) -> None:
        return None

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        raise NotImplementedError


class RoundRobin(Scheduler):
    name = "rr"

    def __init__(self, flags: int = 0) -> None:
        super().__init__(flags)
        self.pos = -1      # index of the last chosen destination; -1: the list head

    def changed(self, dests: Sequence[DestState], change: Change) -> None:
        """The kernel's pointer: kept on its destination; on the previous one if removed."""
        if change.kind == "add" and self.pos >= 0:
            self.pos += 1
        elif change.kind == "del" and change.index <= self.pos:
            self.pos -= 1

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        n = len(dests)
        order = list(range(self.pos + 1, n)) + list(range(0, min(self.pos + 1, n)))
        for i in order:
            d = dests[i]
            if d.usable():
                self.pos = i
                return d
        return None


class WeightedRoundRobin(Scheduler):
    """ip_vs_wrr: passes with a current weight stepping down from max by gcd to 1."""

    name = "wrr"

    def __init__(self, flags: int = 0) -> None:
        super().__init__(flags)
        self.cl = -1            # index of the current destination, -1: list head
        self.cw = self.mw = 0
        self.di = 1

    def changed(self, dests: Sequence[DestState], change: Change) -> None:
        positive = [d.weight for d in dests if d.weight > 0]
        self.di = math.gcd(*positive) if positive else 1
        self.mw = max([0] + [d.weight for d in dests]) - (self.di - 1)
        self.cl = -1
        if self.cw > self.mw or not self.cw:
            self.cw = self.mw
        elif self.di > 1:
            self.cw = (self.cw // self.di) * self.di + 1

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        if self.mw <= 0 or not dests:
            return None
        last = self.cl
        stop: int | None = None
        last_pass = restarted = False
        i = self.cl
        while True:
            while i + 1 < len(dests):
                i += 1
                d = dests[i]
                if not d.overloaded and d.weight >= self.cw:
                    self.cl = i
                    return d
                if i == stop:
                    self.cl = i
                    return None
            i = -1
            self.cw -= self.di
            if self.cw <= 0:
                self.cw = self.mw
                if last_pass or last == -1:
                    self.cl = -1
                    return None
                restarted = True
            last_pass = self.cw <= self.di
            if last_pass and restarted and last != -1:
                stop = last


def _least(dests: Sequence[DestState], cost: Callable[[DestState], int]) -> DestState | None:
    """The weighted least-cost loop of wlc / sed / lblc: first usable one, then strictly
    smaller cost/weight (compared by cross-multiplying, as the kernel)."""
    least: DestState | None = None
    loh = 0
    for d in dests:
        if d.overloaded:
            continue
        if least is None:
            if d.weight > 0:
                least, loh = d, cost(d)
            continue
        doh = cost(d)
        if loh * d.weight > doh * least.weight:
            least, loh = d, doh
    return least


class LeastConnection(Scheduler):
    name = "lc"

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        least: DestState | None = None
        for d in dests:
            if d.usable() and (least is None or d.overhead < least.overhead):
                least = d
        return least


class WeightedLeastConnection(Scheduler):
    name = "wlc"

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        return _least(dests, lambda d: d.overhead)


class ShortestExpectedDelay(Scheduler):
    name = "sed"

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        return _least(dests, lambda d: d.active + 1)


class NeverQueue(Scheduler):
    name = "nq"

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        least: DestState | None = None
        loh = 0
        for d in dests:
            if not d.usable():
                continue
            doh = d.active + 1
            if d.active == 0:
                return d
            if least is None or loh * d.weight > doh * least.weight:
                least, loh = d, doh
        return least


class WeightedFailover(Scheduler):
    name = "fo"

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        best: DestState | None = None
        for d in dests:
            if d.usable() and (best is None or d.weight > best.weight):
                best = d
        return best


class WeightedOverflow(Scheduler):
    name = "ovf"

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        best: DestState | None = None
        for d in dests:
            if d.overloaded or d.active > d.weight or d.weight == 0:
                continue
            if best is None or d.weight > best.weight:
                best = d
        return best


class PowerOfTwo(Scheduler):
    name = "twos"

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        usable = [d for d in dests if d.usable()]
        if not usable:
            return None
        total = sum(d.weight for d in usable) + 1
        r1 = (req.rand() & U32) % total
        r2 = (req.rand() & U32) % total
        choice1 = usable[-1]
        choice2: DestState | None = None
        w1 = w2 = -1
        oh1 = oh2 = 0
        for d in usable:
            r1 -= d.weight
            r2 -= d.weight
            if r1 <= 0 and w1 == -1:
                choice1, w1, oh1 = d, d.weight, d.overhead
            if r2 <= 0 and w2 == -1:
                choice2, w2, oh2 = d, d.weight, d.overhead
            if w1 != -1 and w2 != -1:
                break
        if choice2 is not None and w2 * oh1 > w1 * oh2:
            return choice2
        return choice1


def _locality_overloaded(dest: DestState, dests: Sequence[DestState]) -> bool:
    """lblc/lblcr is_overloaded: busier than its weight while some server is under half."""
    return dest.active > dest.weight and any(d.active * 2 < d.weight for d in dests)


class LocalityLeastConnection(Scheduler):
    name = "lblc"

    def __init__(self, flags: int = 0, expiration: float = LOCALITY_EXPIRATION) -> None:
        super().__init__(flags)
        self.expiration = expiration
        self.entries: dict[IPAddress, tuple[DestState, float]] = {}

    def changed(self, dests: Sequence[DestState], change: Change) -> None:
        if change.kind == "del":
            self.entries = {a: e for a, e in self.entries.items() if e[0] is not change.dest}

    def expire(self, now: float) -> None:
        self.entries = {a: e for a, e in self.entries.items() if e[1] + self.expiration > now}

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        addr = req.daddr if req.daddr is not None else req.saddr
        self.expire(req.now)
        got = self.entries.get(addr)
        if got is not None:
            dest = got[0]
            self.entries[addr] = (dest, req.now)
            if dest.weight > 0 and not _locality_overloaded(dest, dests):
                return dest
        dest = _least(dests, lambda d: d.overhead)
        if dest is not None:
            self.entries[addr] = (dest, req.now)
        return dest


def _most(members: Sequence[DestState]) -> DestState | None:
    """ip_vs_dest_set_max: the most loaded per weight among those with a weight."""
    most: DestState | None = None
    moh = 0
    for d in members:
        if d.weight <= 0:
            continue
        if most is None or moh * d.weight < d.overhead * most.weight:
            most, moh = d, d.overhead
    return most


@dataclass(slots=True)
class _DestSet:
    members: list[DestState]
    lastmod: float
    lastuse: float


class LocalityLeastConnectionReplicated(Scheduler):
    name = "lblcr"

    def __init__(self, flags: int = 0, expiration: float = LOCALITY_EXPIRATION) -> None:
        super().__init__(flags)
        self.expiration = expiration
        self.entries: dict[IPAddress, _DestSet] = {}

    def changed(self, dests: Sequence[DestState], change: Change) -> None:
        if change.kind == "del":
            for s in self.entries.values():
                s.members = [d for d in s.members if d is not change.dest]

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        addr = req.daddr if req.daddr is not None else req.saddr
        self.entries = {a: s for a, s in self.entries.items() if s.lastuse + self.expiration > req.now}
        en = self.entries.get(addr)
        if en is not None:
            en.lastuse = req.now
            dest = _least(en.members, lambda d: d.overhead)
            if len(en.members) > 1 and req.now > en.lastmod + self.expiration:
                most = _most(en.members)
                if most is not None:
                    en.members.remove(most)
            if dest is not None and not _locality_overloaded(dest, dests):
                return dest
            dest = _least(dests, lambda d: d.overhead)
            if dest is not None and dest not in en.members:
                en.members.insert(0, dest)
                en.lastmod = req.now
            return dest
        dest = _least(dests, lambda d: d.overhead)
        if dest is not None:
            self.entries[addr] = _DestSet([dest], req.now, req.now)
        return dest


class _Buckets(Scheduler):
    """sh and dh: 256 buckets filled over the destination list."""

    per_weight = False

    def __init__(self, flags: int = 0) -> None:
        super().__init__(flags)
        self.buckets: list[DestState | None] = [None] * HASH_TAB_SIZE

    def changed(self, dests: Sequence[DestState], change: Change) -> None:
        if not dests:
            self.buckets = [None] * HASH_TAB_SIZE
            return
        out: list[DestState | None] = []
        i = count = 0
        while len(out) < HASH_TAB_SIZE:
            d = dests[i % len(dests)]
            out.append(d)
            count += 1
            if not self.per_weight or count >= d.weight:
                i += 1
                count = 0
        self.buckets = out


class DestinationHashing(_Buckets):
    name = "dh"

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        addr = req.daddr if req.daddr is not None else req.saddr
        d = self.buckets[hash_32(fold(addr))]
        return d if d is not None and d.usable() else None


class SourceHashing(_Buckets):
    """sh-port (SCHED2) adds the source port to the hash; sh-fallback (SCHED1) walks on."""

    name = "sh"
    per_weight = True

    def _hash(self, req: Request, offset: int) -> int:
        port = req.sport if self.flags & SVC_F_SCHED2 else 0
        return (offset + hash_32((port + fold(req.saddr)) & U32)) & (HASH_TAB_SIZE - 1)

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        ihash = self._hash(req, 0)
        d = self.buckets[ihash]
        if d is None or d.usable() or not self.flags & SVC_F_SCHED1:
            return d if d is not None and d.usable() else None
        for offset in range(HASH_TAB_SIZE):
            d = self.buckets[self._hash(req, (offset + ihash) % HASH_TAB_SIZE)]
            if d is None:
                return None
            if d.usable():
                return d
        return None


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & U64


def hsiphash32(value: int, key: tuple[int, int]) -> int:
    """The kernel's hsiphash() of one u32 on a 64-bit little-endian host: SipHash-1-3."""
    k0, k1 = key
    v0, v1 = 0x736F6D6570736575 ^ k0, 0x646F72616E646F6D ^ k1
    v2, v3 = 0x6C7967656E657261 ^ k0, 0x7465646279746573 ^ k1
    b = (4 << 56) | (value & U32)

    def sipround() -> None:
        nonlocal v0, v1, v2, v3
        v0 = (v0 + v1) & U64
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & U64
        v3 = _rotl(v3, 16) ^ v2
        v0 = (v0 + v3) & U64
        v3 = _rotl(v3, 21) ^ v0
        v2 = (v2 + v1) & U64
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)

    v3 ^= b
    sipround()
    v0 ^= b
    v2 ^= 0xFF
    sipround()
    sipround()
    sipround()
    return (v0 ^ v1 ^ v2 ^ v3) & U32


MH_HASH1 = (2654435761, 2654435761)
MH_HASH2 = (2654446892, 2654446892)


class MaglevHashing(Scheduler):
    """mh-port (SCHED2) hashes the source port too; mh-fallback (SCHED1) walks on."""

    name = "mh"

    def __init__(self, flags: int = 0, size: int = MH_TAB_SIZE) -> None:
        super().__init__(flags)
        self.size = size
        self.lookup: list[DestState | None] = [None] * size

    @staticmethod
    def _key(addr: IPAddress, port: int, key: tuple[int, int], offset: int) -> int:
        return hsiphash32((offset + port + fold(addr)) & U32, key)

    def changed(self, dests: Sequence[DestState], change: Change) -> None:
        weights = [d.last_weight for d in dests if d.last_weight > 0]
        g = math.gcd(*weights) if weights else 0
        if g < 1:
            self.lookup = [None] * self.size
            return
        shift = max(0, (max(d.last_weight for d in dests) // g).bit_length() - MH_TAB_BITS)
        setup = []
        for d in dests:
            offset = self._key(d.key.address, d.key.port, MH_HASH1, 0) % self.size
            skip = self._key(d.key.address, d.key.port, MH_HASH2, 0) % (self.size - 1) + 1
            turns = (d.last_weight // g) >> shift or int(d.last_weight != 0)
            setup.append([offset, skip, turns])
        taken = bytearray(self.size)
        table: list[DestState | None] = list(self.lookup) if len(self.lookup) == self.size else [None] * self.size
        n = 0
        while n < self.size:
            for i, d in enumerate(dests):
                perm, skip, turns = setup[i]
                for _ in range(turns):
                    while taken[perm]:
                        perm += skip
                        if perm >= self.size:
                            perm -= self.size
                    setup[i][0] = perm
                    taken[perm] = 1
                    table[perm] = d
                    n += 1
                    if n == self.size:
                        break
                if n == self.size:
                    break
        self.lookup = table

    def schedule(self, dests: Sequence[DestState], req: Request) -> DestState | None:
        port = req.sport if self.flags & SVC_F_SCHED2 else 0
        ihash = self._key(req.saddr, port, MH_HASH1, 0) % self.size
        d = self.lookup[ihash]
        if d is None or d.usable() or not self.flags & SVC_F_SCHED1:
            return d if d is not None and d.usable() else None
        for offset in range(self.size):
            d = self.lookup[self._key(req.saddr, port, MH_HASH1, (offset + ihash) % self.size) % self.size]
            if d is None:
                return None
            if d.usable():
                return d
        return None


_BY_NAME: dict[str, type[Scheduler]] = {c.name: c for c in (
    RoundRobin, WeightedRoundRobin, LeastConnection, WeightedLeastConnection, LocalityLeastConnection,
    LocalityLeastConnectionReplicated, DestinationHashing, SourceHashing, ShortestExpectedDelay,
    NeverQueue, WeightedFailover, WeightedOverflow, MaglevHashing, PowerOfTwo)}


def make(name: str, flags: int = 0) -> Scheduler:
    """A fresh scheduler for a service; KeyError for a name IPVS does not have."""
    return _BY_NAME[name](flags)
