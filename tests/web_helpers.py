"""A database for the dashboard tests, built through the public store API on a fixed clock.

Two annotators (``aida``, ``bek``), three tagging sessions over two days, eight accepted
spans, documents done on both days, and a model training history for ``aida``; every
timestamp comes from a fake clock, so the charts are the same on every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import annotations.store as store_module
from annotations import Store, import_seeds
from annotations.recognisers.crf import model_dir
from annotations.training_log import record_training

#: (annotator, session start, [(doc_id, needle, label), ...], documents marked done)
SESSIONS = [
    ("aida", "2026-03-02T09:00:00", [(1, "Садыр Жапаров", "PER"), (1, "ЕАЭБ", "ORG"),
                                     (2, "Sputnik", "ORG")], [1, 2]),
    ("bek", "2026-03-02T14:00:00", [(1, "Садыр Жапаров", "PER"), (3, "Михаил Мишустин", "PER")], [1]),
    ("aida", "2026-03-03T10:30:00", [(4, "Путин", "PER"), (5, "Москва", "LOC"), (5, "Бишкек", "LOC")], [3, 4]),
]

#: aida's model history: (documents, F1 or None).
TRAININGS = [(1, None), (2, 0.41), (4, 0.63)]


@contextmanager
def fixed_clock(start: str, step_seconds: float = 30.0) -> Iterator[None]:
    """Every ``now()`` of the store is ``start``, then ``step_seconds`` later each call."""
    t = [datetime.fromisoformat(start).replace(tzinfo=timezone.utc)]
    real = store_module.now

    def fake() -> str:
        value = t[0].isoformat(timespec="milliseconds")
        t[0] += timedelta(seconds=step_seconds)
        return value

    store_module.now = fake
    try:
        yield
    finally:
        store_module.now = real


def build_dashboard_db(path: Path) -> Path:
    """Fill a new database at ``path`` as described above; returns ``path``."""
    with fixed_clock("2026-03-01T08:00:00"), Store(path, "aida") as store:
        import_seeds(store)
    for annotator, started, spans, done in SESSIONS:
        with fixed_clock(started), Store(path, annotator) as store:
            store.start_session()
            for doc_id, needle, label in spans:
                text = store.document(doc_id).text
                start = text.index(needle)
                store.add_span(doc_id, start, start + len(needle), label)
            for doc_id in done:
                store.set_status(doc_id, "done")
            store.end_session()
    folder = model_dir(path, "aida")
    assert folder is not None
    folder.mkdir(parents=True, exist_ok=True)
    for i, (docs, f1) in enumerate(TRAININGS):
        held = {"overall": {"precision": f1, "recall": f1, "f1": f1}} if f1 is not None else None
        record_training(folder, {"trained_at": f"2026-03-0{2 + i // 2}T12:0{i}:00+00:00", "kind": "crf",
                                 "documents": docs, "held_out": held, "held_out_documents": docs - 1})
    return path
