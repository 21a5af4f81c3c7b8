"""need_guest(): skip (fail under KPY_REQUIRE_ALL) when the qemu guest cannot boot here."""

from __future__ import annotations

import pytest

from tests.envcheck import need_root


def need_guest() -> None:
    need_root()
    from conformance.guest import guest_unavailable

    reason = guest_unavailable()
    if reason:
        pytest.skip(f"needs the qemu guest: {reason} (`make install` installs it)")
