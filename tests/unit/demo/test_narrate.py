"""The demo's progress line (issue 18: "a progress line during waits"): on a terminal a wait
shows what it waits for and the time so far, rewritten in place and cleared before the next
line; a pipe gets the lines alone."""

from __future__ import annotations

import io

from keepalived_py.demo.narrate import Narrator


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_wait_shows_a_progress_line_on_a_terminal_and_clears_it():
    out = Tty()
    n = Narrator(out)
    polls = iter([None, None, "yes"])
    value, _took = n.wait("r1 becoming MASTER", lambda: next(polls), timeout=30, step=0)
    n.result("done")
    assert value == "yes"
    text = out.getvalue()
    assert text.count("\r\033[K   | r1 becoming MASTER:") == 1 and "/ r1 becoming MASTER:" in text
    assert text.endswith("\r\033[K   => done\n")


def test_a_pipe_gets_no_progress_line():
    out = io.StringIO()
    n = Narrator(out)
    polls = iter([None, None, "yes"])
    n.wait("r1 becoming MASTER", lambda: next(polls), timeout=30, step=0)
    n.result("done")
    assert out.getvalue() == "   => done\n"
