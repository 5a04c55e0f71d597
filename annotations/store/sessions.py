"""The annotator's cursor, tagging sessions and statistics."""

from __future__ import annotations

from typing import Any

import annotations.store as _store  # late-bound: tests patch ``annotations.store.now``



class SessionsMixin:
    """Cursor, sessions and stats of a :class:`~annotations.store.Store`."""

    def save_cursor(self, doc_id: int, offset: int) -> None:
        """Remember where this annotator is (restored when the app reopens); not on a read-only file."""
        if self.read_only:
            return
        with self._write():
            self._b.save_cursor(self.annotator, doc_id, offset, _store.now())

    def cursor(self) -> tuple[int, int] | None:
        """``(doc_id, offset)`` saved for this annotator, if the document still exists."""
        return self._b.cursor(self.annotator)

    def start_session(self) -> int:
        """Begin a tagging session; actions from now on are counted in it (0: read-only, none kept)."""
        if self.read_only:
            return 0
        with self._write():
            self._session_id = self._b.start_session(self.annotator, _store.now())
        return self._session_id

    def end_session(self) -> dict[str, Any] | None:
        """End the current session and return its summary."""
        if self._session_id is None:
            return None
        with self._write():
            self._b.end_session(self._session_id, _store.now())
        summary = self.session_summary(self._session_id)
        self._session_id = None
        return summary

    def session_summary(self, session_id: int) -> dict[str, Any]:
        """Documents done, spans added, minutes and entities per minute of one session."""
        from ..stats import session_summary

        return session_summary(self._b, session_id)

    # -- stats -----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Documents by status and language, spans by label and origin, per annotator."""
        from ..stats import corpus_stats

        return corpus_stats(self._b)
