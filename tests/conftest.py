"""Shared fixtures: a store on a fresh temp database, with or without the seed corpus.

Every fixture works on a real SQLite file under ``tmp_path`` (never ``:memory:``), so WAL,
triggers and migrations behave as in use. Helpers that tests call as functions are exposed
as fixtures (``add_doc``, ``write_jsonl``, ``dump_db``) so no test imports from here.

A test module that sets ``BOTH_BACKENDS = True`` runs its tests that use ``store`` /
``db_path`` twice: on SQLite and on PostgreSQL (a real server started once per test session,
see ``tests/pg_server.py``; each test gets a fresh database). ``db_path`` is then the
database's URL. Tests marked ``@pytest.mark.sqlite_only`` (SQLite's own file, pragmas or
FTS5) run on SQLite alone. Where no PostgreSQL server can be started, the PostgreSQL runs
skip with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pytest

from annotations import Store, import_paths, import_seeds
from annotations.text import content_hash, decode


@pytest.fixture(autouse=True)
def _no_ambient_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up the developer's ``$ANNOTATE_DB``."""
    monkeypatch.delenv("ANNOTATE_DB", raising=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: in a BOTH_BACKENDS module, run on SQLite alone")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not getattr(metafunc.module, "BOTH_BACKENDS", False) or "backend_name" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("sqlite_only"):
        return
    metafunc.parametrize("backend_name", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL server for the whole test session (skips the test when none can start)."""
    from pg_server import start

    server, why = start()
    if server is None:
        pytest.skip(f"no PostgreSQL server: {why}")
    yield server
    server.stop()


@pytest.fixture
def backend_name(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` (the default) or ``"postgresql"`` (in a ``BOTH_BACKENDS`` module)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def db_path(tmp_path: Path, backend_name: str, request: pytest.FixtureRequest) -> Any:
    """Where the test's database lives: a SQLite file (not created yet), or a fresh PostgreSQL
    database's URL."""
    if backend_name == "postgresql":
        return request.getfixturevalue("pg_server").new_database()
    return tmp_path / "annotations.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    """A store on a new, empty database, as annotator ``alice``."""
    s = Store(db_path, "alice")
    yield s
    s.close()


@pytest.fixture
def seeded_store(store: Store) -> Store:
    """``store`` filled with the five bundled seed articles (ids 1-5, in file-name order)."""
    report = import_seeds(store)
    assert report.ok and report.added == 5, report.to_dict()
    return store


@pytest.fixture
def add_doc(store: Store, tmp_path: Path) -> Callable[..., int]:
    """``add_doc(text, lang=None) -> doc_id``: import one document as a .txt file.

    Adding the same text twice returns the same id (the store keeps one copy).
    """
    counter = iter(range(1_000_000))

    def add(text: str, lang: str | None = None) -> int:
        n = next(counter)
        if store.backend.name != "sqlite":
            # The importer runs on SQLite only so far: add the text through the store's bulk API.
            from annotations.store import NewDocument

            stored = decode(text.encode("utf-8"))
            return store.add_documents([NewDocument(stored, source=f"doc{n}.txt", lang=lang or "")])[0][0]
        path = tmp_path / f"doc{n}.txt"
        path.write_text(text, encoding="utf-8", newline="")
        report = import_paths(store, [path], lang=lang)
        assert report.ok, report.to_dict()
        if report.doc_ids:
            return report.doc_ids[0]
        # Already in the database (same text): find it by its content hash.
        stored = decode(text.encode("utf-8"))
        found = store.backend.document_by_hash(content_hash(stored))
        assert found is not None, f"{text!r} was not imported: {report.to_dict()}"
        return found

    return add


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """``write_jsonl(records, name="data.jsonl") -> path``: records (dicts or raw lines) to a file."""

    def write(records: Iterable[Any], name: str = "data.jsonl") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="")
        return path

    return write


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    conn = store.db.conn
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    # FTS5's shadow tables (documents_fts_data, _idx, ...) are real tables, so the index is included.
    return {t: sorted(conn.execute(f"SELECT * FROM [{t}]").fetchall(), key=repr) for t in tables}


@pytest.fixture
def dump_db() -> Callable[[Store], dict[str, list[tuple[Any, ...]]]]:
    """``dump_db(store)``: every row of every table, for "nothing changed" comparisons."""
    return _dump
