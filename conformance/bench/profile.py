"""Reading py-spy's collapsed stacks (`-f raw`): which frames the samples fall in.

Pure: text in, rows out. The runner writes the result beside each profile so the README can
say where the time goes without opening a flame graph.
"""

from __future__ import annotations

from collections import Counter


def top_frames(collapsed: str, n: int = 15) -> tuple[int, list[tuple[float, float, str]]]:
    """(samples, [(inclusive share, self share, frame)]) for the `n` frames with the largest
    inclusive share; a frame counted once per sample even when it recurses."""
    total, own, incl = 0, Counter[str](), Counter[str]()
    for line in collapsed.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        k = int(count)
        frames = stack.split(";")
        total += k
        own[frames[-1]] += k
        for f in set(frames):
            incl[f] += k
    if not total:
        return 0, []
    # ties: the caller (less self time) before the callee, then by name: a stable listing
    order = sorted(incl, key=lambda f: (-incl[f], own[f], f))[:n]
    return total, [(incl[f] / total, own[f] / total, f) for f in order]


def render(collapsed: str, n: int = 25) -> str:
    total, rows = top_frames(collapsed, n)
    lines = [f"{total} samples; inclusive / self share of the samples"]
    lines += [f"{i:6.1%} {s:6.1%}  {f}" for i, s, f in rows]
    return "\n".join(lines) + "\n"
