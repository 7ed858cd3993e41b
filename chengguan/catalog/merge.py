"""Re-loading shipped sample values without losing a bureau's own edits, in plain Python.

This is a three-way merge per field. *base* is what the loader wrote last time (kept in the
row's ``shipped`` snapshot) or, for a row it never seeded, the value the row had untouched;
*current* is the value now; *shipped* is the value in the files being loaded.

- current == base: nobody edited it, so the shipped value is taken (a new release's samples
  reach every row the bureau left alone);
- current != base: the bureau changed it (or deleted the row), so it is kept;
- ``reset``: the shipped value is taken regardless.

Values are plain JSON-ready data (str, bool, list); ``ABSENT`` stands for "no such row",
which lets the same rule decide whether a deleted time-limit row comes back (it does not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


@dataclass
class MergeResult:
    changes: dict[str, Any] = field(default_factory=dict)  # key -> value to write
    kept: set[str] = field(default_factory=set)  # keys whose local edit differs from shipped

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def merge(
    current: Mapping[str, Any], base: Mapping[str, Any], shipped: Mapping[str, Any], *, reset: bool = False
) -> MergeResult:
    """What to write so the row follows ``shipped`` wherever the bureau left it alone.

    Keys missing from ``current`` or ``base`` count as ``ABSENT``; keys only in ``current``
    (the bureau's own additions) are never touched.
    """
    result = MergeResult()
    for key, new in shipped.items():
        now = current.get(key, ABSENT)
        if now == new:
            continue
        if reset or now == base.get(key, ABSENT):
            result.changes[key] = new
        else:
            result.kept.add(key)
    return result
