"""The qemu guest: a real Debian kernel (with IPVS) running the host's root over 9p."""

from .initrd import GuestUnavailable, cache_dir, find_kernel, initrd_for
from .runner import (
    GUEST_SCRATCH,
    GuestError,
    GuestResult,
    StepResult,
    guest_unavailable,
    run_in_guest,
)

__all__ = [
    "GUEST_SCRATCH", "GuestError", "GuestResult", "GuestUnavailable", "StepResult",
    "cache_dir", "find_kernel", "guest_unavailable", "initrd_for", "run_in_guest",
]
