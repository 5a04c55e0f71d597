"""``python -m benchmarks``: the whole suite in one table (see :mod:`benchmarks.run`)."""

from __future__ import annotations

from benchmarks.run import main

raise SystemExit(main())
