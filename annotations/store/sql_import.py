"""Imports: the queries ``annotations.importer`` makes, shared by the dialects.

A mixin of :class:`annotations.store.backend.Backend`. Two paths write an imported file:

- the **exact path** (records whose text is already in the database, or an import inside a
  caller's transaction): one record at a time, with duplicates, conflicts and records
  annotated before (``import_annotation``, ``accept_as_import``, ``insert_import_span``...);
- the **staged path**: checked records staged in a local SQLite file
  (:class:`~annotations.store.sqlite_staging.Staging`), published in short transactions by
  the dialect's :meth:`import_publisher` (:mod:`.sqlite_import`, :mod:`.pg_import`), each
  batch noted in ``import_batches``/``import_batch_docs`` so what an import that died
  published can be taken back (:meth:`discard_import_step`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

#: What a publisher's batch reports (see :meth:`ImportPublisher.rest`).
BatchCounts = dict[str, Any]


class ImportPublisher:
    """Publishes one staged file, batch by batch, each call inside the caller's write transaction.

    ``documents(batch_id, lo, hi)`` adds the new documents among records ``lo..hi`` (notes
    their ids under ``batch_id``, maps records to them) and says whether there were any;
    ``labels()`` names the labels their spans use (first use first); ``rest()`` writes their
    spans, statuses, Prodigy keys and given tokens and returns the counts; ``unpublished()``
    yields the records not published as new documents (for the exact path).
    """

    def documents(self, batch_id: int, lo: int, hi: int) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def labels(self) -> list[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def rest(self) -> BatchCounts:  # pragma: no cover - interface
        raise NotImplementedError

    def unpublished(self) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class ImportQueries:
    #: Whether text may hold U+0000 (PostgreSQL's cannot: the importer refuses such a record
    #: while checking it, naming the line), and the database's name for that message.
    stores_nul = True
    product = "SQLite"

    # -- the exact path ---------------------------------------------------------------------------

    def import_annotation(self, doc_id: int, annotator: str) -> tuple[str | None, list[tuple[int, int, str]]]:
        """``annotator``'s status row (None: none) and accepted spans ``(start, end, label)`` on a document."""
        status = self.value("SELECT status FROM doc_status WHERE doc_id = ? AND annotator = ?", [doc_id, annotator])
        spans = [
            (int(s), int(e), str(label)) for s, e, label in self.execute(
                'SELECT start, "end", label FROM spans WHERE doc_id = ? AND annotator = ? AND state = \'accepted\''
                " ORDER BY start", [doc_id, annotator],
            )
        ]
        return status, spans

    def accept_as_import(self, span_id: int, label: str, ts: str) -> None:
        """A pending or rejected suggestion at an imported span's place becomes that span."""
        self.execute(
            "UPDATE spans SET state = 'accepted', label = ?, origin = 'import', updated = ? WHERE id = ?",
            [label, ts, span_id],
        )

    def insert_import_span(self, doc_id: int, start: int, end: int, label: str, annotator: str, state: str,
                           score: float | None, ts: str) -> None:
        self.execute(
            'INSERT INTO spans (doc_id, start, "end", label, annotator, origin, state, score, created, updated)'
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            [doc_id, start, end, label, annotator, "import", state, score, ts, ts],
        )

    # -- notes of imports being published -------------------------------------------------------

    def import_in_progress(self) -> bool:
        """Whether an import is publishing (or died publishing) a file into this database."""
        return self.value("SELECT 1 FROM import_batches LIMIT 1") is not None

    def open_import_note(self, source: str, staging: str, pid: int, started: str) -> int:
        """Note an import that starts publishing (inside its first batch's transaction); its id."""
        return self.insert_id(
            "INSERT INTO import_batches (source, staging, pid, started) VALUES (?,?,?,?)",
            [source, staging, pid, started],
        )

    def note_import_docs(self, batch_id: int, first: int, last: int) -> None:
        """Documents ``first..last`` were added by import ``batch_id`` (all ids between are its own)."""
        self.execute("INSERT INTO import_batch_docs (batch_id, first, last) VALUES (?,?,?)", [batch_id, first, last])

    def note_import_labels(self, batch_id: int, labels_json: str) -> None:
        """The labels import ``batch_id`` added (JSON list), taken back with it if it does not finish."""
        self.execute("UPDATE import_batches SET labels = ? WHERE id = ?", [labels_json, batch_id])

    def close_import_note(self, batch_id: int) -> None:
        """The import finished (inside its last transaction): its documents stay."""
        self.execute("DELETE FROM import_batch_docs WHERE batch_id = ?", [batch_id])
        self.execute("DELETE FROM import_batches WHERE id = ?", [batch_id])

    def import_notes(self) -> list[tuple[int, str]]:
        """``(id, staging file)`` of every import noted as publishing."""
        return [(int(i), str(s)) for i, s in self.all("SELECT id, staging FROM import_batches ORDER BY id")]

    def import_note_labels(self, batch_id: int) -> str | None:
        return self.value("SELECT labels FROM import_batches WHERE id = ?", [batch_id])

    def discard_import_step(self, batch_id: int, most: int, labels: Sequence[str]) -> bool:
        """Inside a write: delete up to ``most`` documents import ``batch_id`` published (their
        spans, statuses and tokens go with them); once none is left, the ``labels`` it added
        that no span uses, and the note. True when the import is all taken back."""
        row = self.one(
            "SELECT first, last FROM import_batch_docs WHERE batch_id = ? ORDER BY last DESC LIMIT 1", [batch_id]
        )
        if row is None:
            for label in labels:
                self.execute(
                    "DELETE FROM labels WHERE name = ? AND NOT EXISTS (SELECT 1 FROM spans WHERE label = ?)",
                    [label, label],
                )
            self.execute("DELETE FROM import_batches WHERE id = ?", [batch_id])
            return True
        first, last = int(row[0]), int(row[1])
        cut = max(first, last - most + 1)
        self.delete_imported_documents(cut, last)
        if cut == first:
            self.execute("DELETE FROM import_batch_docs WHERE batch_id = ? AND first = ?", [batch_id, first])
        else:
            self.execute("UPDATE import_batch_docs SET last = ? WHERE batch_id = ? AND first = ?",
                         [cut - 1, batch_id, first])
        return False

    def delete_imported_documents(self, first: int, last: int) -> None:
        """Documents ``first..last`` and what hangs on them (the dialect's cascade)."""
        self.execute("DELETE FROM documents WHERE id BETWEEN ? AND ?", [first, last])

    # -- the dialect's part -----------------------------------------------------------------------

    def staging_folder(self, path: Path) -> Path | None:
        """Where an import's staging file goes (None: the system's temporary folder)."""
        return None

    def publish_pause(self, pause: float) -> float:
        """The pause between an import's publishing transactions that lets a waiting writer
        in (SQLite's busy handler polls, so it needs ``pause``; see ``importer.PUBLISH_PAUSE``)."""
        return pause

    def staging_keeps_open(self) -> bool:
        """Whether the publisher reads the staging file through its own connection."""
        return True

    def in_transaction(self) -> bool:
        """Whether a write transaction is open on this connection."""
        raise NotImplementedError

    def import_publisher(self, staging: Any, name: str, ts: str, state: str) -> ImportPublisher:
        raise NotImplementedError

    def import_alive(self, batch_id: int, staging: str) -> bool:
        """Whether the import noted as ``batch_id`` still runs (one that died is taken back)."""
        raise NotImplementedError

    def import_finished(self, batch_id: int) -> None:
        """After an import's note is gone (published, or taken back): release what marked it running."""
