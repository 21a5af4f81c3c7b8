"""Which of the bench's cases a run does: `--only CASE[,CASE]` and the plan's switches.

Pure (names in, names out), so the selector is unit-tested without a lab; the runner owns
what each name runs.
"""

from __future__ import annotations

from collections.abc import Iterable

# In the order the runner runs them (the quick, host-only ones first, the guest last).
CASES: tuple[tuple[str, str], ...] = (
    ("launch", "launch -> BACKUP and SIGTERM -> VIP gone, one instance (and `ip netns exec`'s cost)"),
    ("config-test", "`-t` on a 14-line and an 80,003-line config: time and peak RSS"),
    ("failover", "failover over the protocol bound: SIGTERM and kill -9, v2 1 s and v3 0.1 s, IPv4/IPv6"),
    ("bfd", "BFD detection time after kill -9 of the peer (issue 17)"),
    ("steady", "advert interval deviation, send lateness, CPU and PSS at 1 / 50 / 255 instances; a reload"),
    ("dataplane", "userspace dataplane beside HAProxy 2.6 on loopback (issue 18)"),
    ("check-host", "TCP_CHECK rate, CPU and PSS of keepalived-py on the host (issue 14)"),
    ("check-guest", "TCP_CHECK and programming 1,000 x 10 in the qemu guest, both daemons (issue 14)"),
)
NAMES = tuple(n for n, _ in CASES)
ALIASES: dict[str, tuple[str, ...]] = {
    "vrrp": ("launch", "config-test", "failover", "steady"),
    "check": ("check-host", "check-guest"),
    "t": ("config-test",),
}


def select(only: str | None, exclude: Iterable[str] = ()) -> list[str]:
    """The cases to run, in run order: all of them, or those `only` names (comma separated,
    aliases allowed), minus `exclude`. An unknown name is an error that lists the known ones."""
    if only is None or not only.strip():
        wanted = set(NAMES)
    else:
        wanted = set()
        for word in (w.strip() for w in only.split(",")):
            if not word:
                continue
            if word in ALIASES:
                wanted.update(ALIASES[word])
            elif word in NAMES:
                wanted.add(word)
            else:
                known = ", ".join([*NAMES, *ALIASES])
                raise ValueError(f"unknown bench case {word!r}; known: {known}")
    wanted -= set(exclude)
    return [n for n in NAMES if n in wanted]
