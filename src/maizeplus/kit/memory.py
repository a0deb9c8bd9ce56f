"""Settings of the garbage collector for processes that run import jobs."""

from __future__ import annotations

import gc

# Objects allocated, less those freed, before a young collection. With
# CPython's default of 700, a 200,000-row import on PostgreSQL took 6.3 s of
# CPU in the job's process, against 4.2 s with this value (2-core machine,
# 2026-12-04), because a chunk allocates hundreds of thousands of tuples and
# each collection walks them again. The import's objects hold no cycles, so
# collecting less often keeps a few MB more at most (an estimate).
YOUNG_COLLECTION_THRESHOLD = 50_000


def tune_for_imports() -> None:
    """Collect the young generation less often; the older ones as before."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)
