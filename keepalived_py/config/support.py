"""Which keywords keepalived-py acts on today; `-t` lists every other keyword it meets under
'parsed, not implemented'. Each runtime issue adds the keywords it really implements
(a test checks every name here exists in the schema). Names are `block.keyword` as -t
prints them, where `block` is the keyword that opens the block ('top level' outside any).
"""

from __future__ import annotations

ACTED_ON: frozenset[str] = frozenset()
