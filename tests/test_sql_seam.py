"""All SQL lives behind one seam: the store's backend modules (issue 14).

The library's other modules, and the app and command line (``tui/``), call store (and
backend) methods; only the dialect modules, and SQLite's schema in ``annotations/db.py``,
hold SQL. ``PENDING`` lists the modules whose
SQL has not moved yet, each with the reason: it may only shrink. A module on it that no
longer holds SQL fails the test too, so the list is kept honest.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "annotations"

#: Where SQL belongs: the portable queries and each dialect (schema, search, bulk loading).
SEAM = {
    "store/backend.py",
    "store/sql_common.py",
    "store/sql_events.py",
    "store/sql_labels.py",
    "store/sql_documents.py",
    "store/sql_spans.py",
    "store/sql_stats.py",
    "store/sql_team.py",
    "store/sql_export.py",
    "store/sql_tables.py",
    "store/sql_merge.py",
    "store/sql_import.py",
    "store/sqlite_import.py",
    "store/sqlite_staging.py",  # an import's local scratch file (SQLite whatever the backend)
    "store/pg_import.py",
    "store/sqlite_backend.py",
    "store/postgres_backend.py",
    "db.py",  # SQLite's schema and migrations (sqlite-utils), part of the SQLite dialect
}

#: Modules still holding SQL, and why. Shrink only: move their queries into the backend.
PENDING: dict[str, str] = {}

#: A string that is a statement (the project writes SQL keywords in capitals): a keyword
#: starting it, or a statement-shaped phrase anywhere in it.
_SQL = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT|ROLLBACK|WITH)\s"
    r"|\b(INSERT\s+(OR\s+\w+\s+)?INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|SELECT\s.+\sFROM\s|\sWHERE\s)",
    re.DOTALL,
)


def _sql_strings(path: Path) -> list[tuple[int, str]]:
    """String literals (f-strings' constant parts included) that read as SQL; docstrings skipped."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if _SQL.search(node.value):
                found.append((node.lineno, node.value))
    return found


def _uses_connection(path: Path) -> list[int]:
    """Lines that reach past the store to the database connection (``.conn``, ``execute(``)."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        code = line.split("#", 1)[0]
        if re.search(r"\.conn\b|\.execute(many|script)?\(", code):
            out.append(n)
    return out


def _modules() -> list[str]:
    """Every module of the library (paths relative to ``annotations/``) and of the app (``../tui/...``)."""
    out = [str(p.relative_to(LIBRARY)) for p in LIBRARY.rglob("*.py")]
    out += [f"../tui/{p.relative_to(ROOT / 'tui')}" for p in (ROOT / "tui").rglob("*.py")]
    return sorted(out)


def test_sql_lives_only_in_the_backend_modules() -> None:
    offenders = {}
    for rel in _modules():
        if rel in SEAM or rel in PENDING:
            continue
        path = LIBRARY / rel
        hits = [f"line {n}: {s.strip()[:60]!r}" for n, s in _sql_strings(path)]
        hits += [f"line {n}: uses the connection" for n in _uses_connection(path)]
        if hits:
            offenders[rel] = hits
    assert offenders == {}, (
        "SQL outside the store's backend modules (move it into an annotations/store/sql_*.py module or a"
        f" dialect, and call a method): {offenders}"
    )


def test_the_pending_list_only_names_modules_that_still_hold_sql() -> None:
    stale = [rel for rel in PENDING if not (LIBRARY / rel).exists()
             or not (_sql_strings(LIBRARY / rel) or _uses_connection(LIBRARY / rel))]
    assert stale == [], f"these modules hold no SQL any more: take them off PENDING: {stale}"


def test_the_checker_sees_sql(tmp_path: Path) -> None:
    """The detector itself: it finds statements in strings and f-strings, not prose."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""SELECT in a docstring is prose."""\n'
        'A = "SELECT id FROM documents WHERE x = ?"\n'
        'B = f"DELETE FROM spans WHERE id = {1}"\n'
        'C = "Select a label, then press enter"\n'
        'conn.execute(A)\n'
        'D = " AND d.lang = ?"\n'
        'E = "Update the labels"\n',
        encoding="utf-8",
    )
    assert sorted(n for n, _ in _sql_strings(sample)) == [2, 3]
    assert _uses_connection(sample) == [5]


def test_both_dialects_have_the_same_tables_and_columns(tmp_path: Path, pg_server: object) -> None:
    """One schema, two dialects: a new table or column (a SQLite migration in annotations/db.py)
    needs its PostgreSQL migration (postgres_backend.MIGRATIONS) and its place in
    ``backend.TABLES`` (what ``annotate copy`` copies and verifies)."""
    from annotations import open_store
    from annotations.store.backend import TABLES

    with open_store(tmp_path / "a.db", "x") as sq, open_store(pg_server.new_database(), "x") as pg:  # type: ignore[attr-defined]
        assert sq.backend.table_names() == set(TABLES) == pg.backend.table_names()
        for table, columns in TABLES.items():
            assert sq.backend.table_columns(table) == list(columns) == pg.backend.table_columns(table), table
