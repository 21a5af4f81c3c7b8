"""How many launched (Task-free) checks may be in flight, from the fd limit.

keepalived raises RLIMIT_NOFILE so every checker can hold its socket at once (check_daemon.c
start_check: set_max_file_limit(17 + num_checker_fd_required + ...)). We do the same as far as
the hard limit allows, then size the launched checks' bound to what is left once the
coroutine probes' share (`max_in_flight`) and a reserve (IPVS netlink, notify scripts, logs,
the parent's pipes) are set aside: a check must never fail on EMFILE, which would remove a
healthy server.
"""

from __future__ import annotations

import resource

#: fds kept for everything that is not a check
RESERVE = 256
#: never fewer than this many launched checks in flight (a tiny fd limit still checks)
FLOOR = 64
#: never more: in the qemu guest, 5,000 TCP_CHECKs launched in one burst (no cap) stalled the
#: check child at 1.7 checks/s where 512 gave 95/s; the cause is not found yet
CAP = 512


def launch_bound(checkers: int, max_in_flight: int, *, raise_limit: bool = True, cap: int = CAP) -> int:
    """The bound for `checkers` checkers (at most `cap`); raises the soft fd limit towards
    what they need."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = checkers + max_in_flight + RESERVE
    if raise_limit and soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return min(cap, max(FLOOR, checkers))
    return min(cap, max(FLOOR, min(max(checkers, 1), soft - max_in_flight - RESERVE)))
