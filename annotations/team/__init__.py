"""Working as a team: sharing the work out, measuring agreement, adjudicating, merging.

- :mod:`.assign`: who annotates which document (balanced, deterministic, incremental);
- :mod:`.agree`: inter-annotator agreement (span P/R/F1, Cohen's κ, Krippendorff's α);
- :mod:`.review`: conflicts between annotators and the reviewer's decisions on them;
- :mod:`.merge`: bringing another database's work into this one.

Never imports Textual.
"""

from __future__ import annotations

from .assign import (
    AssignReport,
    assign,
    assigned_ids,
    has_assignments,
    next_assigned,
    parse_annotators,
    queue_progress,
)

__all__ = [
    "AssignReport",
    "assign",
    "assigned_ids",
    "has_assignments",
    "next_assigned",
    "parse_annotators",
    "queue_progress",
]
