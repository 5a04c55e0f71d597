"""Big JSONL files: read and checked in a worker process, published while it still checks.

``annotate import`` of a file over ``importer.WORKER_MIN_BYTES`` checks it in a worker
process (the second core) and publishes the first batches while the worker checks the rest
(issue 11). The result must be exactly what an import checked in process gives, and a bad
line late in the file still leaves nothing of it: the batches already published are taken
back. Run on both backends; the threshold is lowered so a small file takes that path (each
test starts a worker, ~2 s of spaCy's import: the reason these run over 3 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from annotations import Store, import_paths
from annotations import importer
from test_import_postgres import content

BOTH_BACKENDS = True


def _records(n: int) -> list[Any]:
    out: list[Any] = []
    for i in range(n):
        text = f"Док{i} Бишкек шаарында жолугушуу болду, Садыр Жапаров катышты."
        out.append({"text": text, "spans": [{"start": 0, "end": len(f"Док{i}"), "label": "ORG"},
                                            {"start": text.index("Бишкек"), "end": text.index("Бишкек") + 6,
                                             "label": "CITY"}]})
    out[10] = {"text": out[3]["text"]}  # a duplicate of an earlier text (the exact path)
    out[20] = {"text": "   "}  # skipped: empty
    return out


def test_a_file_checked_in_the_worker_is_imported_exactly_as_in_process(
    store: Store, db_path: Any, tmp_path: Path, write_jsonl: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
    backend_name: str,
) -> None:
    path = write_jsonl(_records(1200))
    with Store(tmp_path / "in_process.db", "alice") as reference:
        expected = import_paths(reference, [path]).to_dict()
        want = content(reference)
    sources: list[str] = []
    real = importer._WorkerSource.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        sources.append("worker")
        real(self, *args, **kwargs)

    monkeypatch.setattr(importer._WorkerSource, "__init__", spy)
    monkeypatch.setattr(importer, "WORKER_MIN_BYTES", 0)
    report = import_paths(store, [path])
    assert sources == ["worker"]
    assert report.to_dict() == expected and report.added == 1198 and report.duplicates == 1
    assert content(store) == want
    assert len(store.documents(search="бишкек", limit=3000)) == 1198


def test_a_bad_line_late_in_a_worker_file_takes_the_published_batches_back(
    store: Store, write_jsonl: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import_paths(store, [write_jsonl([{"text": "Ош шаары."}], name="first.jsonl")])
    before = content(store)
    records = _records(6000)
    records[5990] = {"text": "Ош", "spans": [{"start": 0, "end": 9, "label": "LOC"}]}
    discarded: list[int] = []
    real = importer._discard

    def spy(s: Store, batch_id: int) -> None:
        discarded.append(batch_id)
        real(s, batch_id)

    monkeypatch.setattr(importer, "_discard", spy)
    monkeypatch.setattr(importer, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(importer, "PUBLISH_PAUSE", 0.05)  # publish slower than the worker checks
    report = import_paths(store, [write_jsonl(records)])
    (error,) = report.errors
    assert (error.source, error.line) == ("data.jsonl", 5991) and "out of range" in error.message
    assert len(discarded) == 1  # batches were published before the worker reached the bad line
    after = content(store)
    # The labels it added are taken back too (the append-only event log keeps their "labels" events).
    assert [e for e in after.pop("events") if e != "labels"] == before.pop("events")
    assert after == before
    assert store.documents(search="жапаров") == []
