"""Sharing documents out among annotators: ``annotate assign``.

Every selected document goes to ``overlap`` of the given annotators. The choice is greedy
in document order: a document that has fewer than ``overlap`` of them gets the missing
ones from those with the fewest assignments so far, ties broken by a hash of the
document's content and the annotator's name. So the result is deterministic (it depends
on the import order, the texts and the names, not on the order the names are given in), balanced
(the counts differ by at most one when everyone starts level), and incremental: running
it again changes nothing, and adding an annotator later only fills documents that are
unassigned or under-covered. Assignments are rows of ``assignments(doc_id, annotator)``.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..labels import valid_label_name
from ..store import Store, StoreError, now

__all__ = [
    "AssignReport",
    "assign",
    "assigned_ids",
    "has_assignments",
    "next_assigned",
    "parse_annotators",
    "queue_progress",
    "ONLY",
]

#: ``--only`` choices: every matching document, or those nobody has done or skipped yet.
ONLY = ("any", "todo")


#: The longest annotator name (as the browser's name prompt takes them).
MAX_ANNOTATOR = 64


def valid_annotator(name: str) -> bool:
    """An annotator name as the app takes one (``--annotator``, the browser's prompt): 1-64
    letters, digits, punctuation and spaces, nothing invisible or controlling."""
    return 0 < len(name) <= MAX_ANNOTATOR and not any(
        unicodedata.category(ch)[0] in "CZ" and ch != " " for ch in name)


def parse_annotators(value: str | Sequence[str]) -> list[str]:
    """``"aida,bek"`` (or a list) -> ``["aida", "bek"]``: stripped, no repeats, valid names."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for part in parts:
        name = part.strip()
        if not name:
            continue
        if not valid_annotator(name):
            raise StoreError(f"invalid annotator name {name!r}: use 1-{MAX_ANNOTATOR} letters, digits,"
                             " spaces or punctuation")
        if name not in names:
            names.append(name)
    if not names:
        raise StoreError("no annotators given")
    return names


@dataclass
class AssignReport:
    """What an assignment run did."""

    annotators: list[str]
    overlap: int
    documents: int = 0
    added: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    covered: int = 0

    @property
    def new(self) -> int:
        return sum(self.added.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "annotators": self.annotators,
            "overlap": self.overlap,
            "documents": self.documents,
            "covered": self.covered,
            "added": self.added,
            "total": self.total,
        }


def _rank(doc_hash: str, annotator: str) -> bytes:
    return hashlib.blake2b(f"{doc_hash}\x00{annotator}".encode(), digest_size=8).digest()


def assign(
    store: Store,
    annotators: Sequence[str],
    overlap: int | str = 1,
    *,
    only: str = "any",
    lang: str | None = None,
    search: str | None = None,
) -> AssignReport:
    """Give every selected document to ``overlap`` of ``annotators`` (``"all"``: to each).

    ``only="todo"`` leaves out documents somebody already marked done or skipped; ``lang``
    and ``search`` select as in ``annotate docs``. One transaction.
    """
    names = parse_annotators(annotators)
    if overlap == "all":
        n = len(names)
    else:
        try:
            n = int(overlap)
        except (TypeError, ValueError):
            raise StoreError(f"invalid overlap {overlap!r}: use a number or all") from None
    if not 1 <= n <= len(names):
        raise StoreError(f"overlap {n} needs between 1 and {len(names)} (the number of annotators)")
    if only not in ONLY:
        raise StoreError(f"unknown --only {only!r}: use one of {', '.join(ONLY)}")
    b = store.backend
    report = AssignReport(names, n, added={a: 0 for a in names})
    with store.transaction():
        finished: set[int] = set()
        if only == "todo":
            finished = b.finished_doc_ids()
        if search and search.strip():
            wanted = [d.id for d in store.iter_documents(lang=lang, search=search)]
            marks = None
        else:
            wanted = None
            marks = lang
        if wanted is None:
            docs = b.document_hashes(marks)
        else:
            hashes = dict(b.document_hashes()) if wanted else {}
            docs = [(i, hashes[i]) for i in wanted]
        docs = [(i, h) for i, h in docs if i not in finished]
        have: dict[int, set[str]] = {}
        load = {a: 0 for a in names}
        for doc_id, annotator in b.assignments():
            if annotator in load:
                load[annotator] += 1
                have.setdefault(doc_id, set()).add(annotator)
        ts = now()
        rows: list[tuple[int, str, str]] = []
        for doc_id, doc_hash in docs:
            got = have.get(doc_id, set())
            need = n - len(got)
            if need <= 0:
                report.covered += 1
                continue
            free = [a for a in names if a not in got]
            free.sort(key=lambda a: (load[a], _rank(doc_hash, a)))
            for a in free[:need]:
                rows.append((doc_id, a, ts))
                load[a] += 1
                report.added[a] += 1
        b.insert_assignments(rows)
    report.documents = len(docs)
    report.total = dict(load)
    return report


def has_assignments(store: Store, annotator: str | None = None) -> bool:
    """Whether ``annotator`` (default: the store's) has any documents assigned."""
    return store.backend.has_assignments(annotator or store.annotator)


def assigned_ids(store: Store, annotator: str | None = None) -> list[int]:
    """The ids of the documents assigned to ``annotator``, in import order."""
    return store.backend.assigned_ids(annotator or store.annotator)


def queue_progress(store: Store, annotator: str | None = None) -> dict[str, int]:
    """Like :meth:`Store.progress`, over the documents assigned to ``annotator``."""
    annotator = annotator or store.annotator
    total, done, skipped = store.backend.queue_counts(annotator)
    return {"todo": total - done - skipped, "done": done, "skipped": skipped, "total": total}


def next_assigned(store: Store, after: int | None = None, annotator: str | None = None) -> int | None:
    """The next assigned document that is still todo for ``annotator``, after ``after``, wrapping."""
    annotator = annotator or store.annotator
    return store.backend.next_assigned(annotator, after)
