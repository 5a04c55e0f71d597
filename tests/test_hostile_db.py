"""Hostile databases (issue 16 items 3, 4, 5): read-only files and folders, a non-WAL file, a
newer schema, a full disk, a damaged file.

Read-only cases run the installed ``annotate`` in a child process as an unprivileged user
(``nobody`` via ``setpriv`` when the tests run as root, for root may write anything), on
real files whose permissions say read-only. The app itself is driven with Pilot on a
database with a newer schema, which is opened read-only by the same mechanism.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner, Result

from annotations import Store, import_seeds
from annotations import db as dbmod
from tui.cli import main

from tui_helpers import loaded, make_app, sync, until

ANNOTATE = Path(sys.executable).with_name("annotate")


def as_user(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``annotate ARGS`` as an unprivileged user; never a traceback."""
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    if prefix and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: no way to be an ordinary user")
    done = subprocess.run([*prefix, str(ANNOTATE), *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd or "/", env={**os.environ, "HOME": "/nonexistent"})
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return done


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def header_journal(path: Path) -> int:
    """Byte 18 of the SQLite header: 1 = rollback journal, 2 = WAL."""
    return path.read_bytes()[18]


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder an unprivileged user can enter (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="annotate-ro-"))
    path.chmod(0o777)
    yield path
    path.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)


def seeded(path: Path, *, wal: bool = True) -> Path:
    with Store(path, "alice") as store:
        import_seeds(store)
        for doc_id in store.document_ids()[:2]:
            store.set_status(doc_id, "done")
        if not wal:
            store.db.conn.execute("PRAGMA journal_mode = DELETE")
    assert not path.with_name(path.name + "-wal").exists()
    return path


def test_item3_read_only_database_browses_exports_and_refuses_writes(folder: Path) -> None:
    db = seeded(folder / "ro.db")
    db.chmod(0o444)
    before = sha(db)
    docs = as_user("docs", "--db", str(db))
    assert docs.returncode == 0, docs.stderr
    assert len([ln for ln in docs.stdout.splitlines() if ln.strip()]) >= 5
    assert as_user("stats", "--db", str(db), "--json").returncode == 0
    export = as_user("export", "--db", str(db), "--annotator", "alice")
    assert export.returncode == 0, export.stderr
    assert len(export.stdout.splitlines()) == 2
    (folder / "new.txt").write_text("Жаңы документ.")
    imported = as_user("import", "--db", str(db), str(folder / "new.txt"))
    assert imported.returncode == 1
    assert f"Error: cannot import: {db} is read-only (no write permission" in imported.stderr
    label = as_user("labels", "--db", str(db), "add", "EVENT")
    assert label.returncode == 1
    assert f"Error: cannot save: {db} is read-only" in label.stderr
    assert sha(db) == before
    # (SQLite's read-only WAL readers may leave an empty -wal and a -shm beside it.)
    assert {p.name for p in folder.iterdir()} <= {"new.txt", "ro.db", "ro.db-wal", "ro.db-shm"}
    wal = folder / "ro.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_item3_non_wal_read_only_database_is_read_as_it_is(folder: Path) -> None:
    db = seeded(folder / "legacy.db", wal=False)
    assert header_journal(db) == 1
    db.chmod(0o444)
    docs = as_user("docs", "--db", str(db), "--json")
    assert docs.returncode == 0, docs.stderr
    assert len(docs.stdout.splitlines()) == 5
    assert header_journal(db) == 1


def test_item3_database_in_a_read_only_folder_exports(folder: Path) -> None:
    locked = folder / "locked"
    locked.mkdir()
    db = seeded(locked / "news.db")
    db.chmod(0o666)
    locked.chmod(0o555)
    out = folder / "out.jsonl"
    done = as_user("export", "--db", str(db), "--annotator", "alice", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 2
    refused = as_user("docs", "--db", str(db), "--status", "done", "--annotator", "alice")
    assert refused.returncode == 0 and refused.stdout.strip()
    label = as_user("labels", "--db", str(db), "add", "EVENT")
    assert label.returncode == 1
    assert f"its folder {locked} is not writable" in label.stderr
    assert sorted(p.name for p in locked.iterdir()) == ["news.db"]
    locked.chmod(0o755)


# -- item 4: newer schema ---------------------------------------------------------------------


def newer(path: Path) -> Path:
    """A database as a later version would leave it: one more migration, a higher user_version."""
    Store(path, "alice").close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('annotate', 'm099_future', 'x')")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    return path


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_item4_newer_schema_is_refused_for_writing(tmp_path: Path, dump_db) -> None:
    db = newer(tmp_path / "future.db")
    with Store(db, "alice") as store:
        before = dump_db(store)
        assert store.read_only and "schema version 99" in store.read_only
    supported = len(dbmod.migrations._migrations)
    label = run("labels", "--db", str(db), "add", "EVENT")
    assert label.exit_code == 1
    assert (f"Error: cannot save: {db} has schema version 99, newer than this annotate supports (version"
            f" {supported}) (migrations it does not know: m099_future)") in label.output
    (tmp_path / "a.txt").write_text("Бир документ.")
    imported = run("import", "--db", str(db), str(tmp_path / "a.txt"))
    assert imported.exit_code == 1 and "cannot import:" in imported.output and "version 99" in imported.output
    assert run("docs", "--db", str(db)).exit_code == 0
    with Store(db, "alice") as store:
        assert dump_db(store) == before


@sync
async def test_item3_item4_app_on_a_read_only_database_browses_and_says_why_it_cannot_save(
    seeded_store: Store, db_path: Path
) -> None:
    seeded_store.close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    store = Store(db_path, "alice")
    app = make_app(store)
    notes: list[str] = []
    real_notify = app.notify
    app.notify = lambda message, *a, **k: (notes.append(str(message)), real_notify(message, *a, **k))[1]  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        reader = await loaded(pilot)
        await pilot.press("right", "1")
        await pilot.pause(0.1)
        assert any("cannot save:" in n and "schema version 99" in n for n in notes), notes
        await pilot.press("]")
        await pilot.pause(0.1)
        assert reader.model is not None
        await pilot.press("q")
    assert store.db.conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 0
    store.close()


# -- item 5: a full disk, a damaged file --------------------------------------------------------


def test_item5_disk_full_during_a_folder_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's own SQLITE_FULL (the file may not grow past max_page_count) in the middle of a folder."""
    db = tmp_path / "full.db"
    Store(db, "alice").close()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Садыр Жапаров Бишкекке келди.")
    (corpus / "b.txt").write_text("Ош шаары. " * 200_000)  # 2 MB: does not fit
    (corpus / "c.txt").write_text("Нарын облусу.")
    real_connect = dbmod.connect

    def small_disk(path, **kw):
        db_ = real_connect(path, **kw)
        pages = db_.conn.execute("PRAGMA page_count").fetchone()[0]
        db_.conn.execute(f"PRAGMA max_page_count = {pages + 40}")
        return db_

    monkeypatch.setattr(dbmod, "connect", small_disk)
    result = run("import", "--db", str(db), str(corpus))
    assert result.exit_code == 1
    errors = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert errors[0] == ("Error: corpus/b.txt: not written, the database failed: database or disk is full")
    monkeypatch.undo()
    with Store(db, "alice") as store:
        assert sorted(d.title for d in store.documents()) == ["Нарын облусу.", "Садыр Жапаров Бишкекке келди."]


def damaged(tmp_path: Path) -> Path:
    """A seeded database whose documents and statuses tables have their root pages overwritten:
    it opens, and fails when those tables are read."""
    db = seeded(tmp_path / "damaged.db")
    conn = sqlite3.connect(db)
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    roots = [r for (r,) in conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name IN ('documents', 'doc_status')")]
    conn.close()
    data = bytearray(db.read_bytes())
    for root in roots:
        start = (root - 1) * page
        data[start:start + page] = bytes([0xA5]) * page
    db.write_bytes(bytes(data))
    return db


@pytest.mark.parametrize("command", [["docs"], ["export", "--status", "any"], ["stats"]])
def test_item5_damaged_database_is_a_clear_error(tmp_path: Path, command: list[str]) -> None:
    db = damaged(tmp_path)
    result = run(*command, "--db", str(db))
    assert result.exit_code == 1
    line = [ln for ln in result.output.splitlines() if ln.startswith("Error:")][0]
    assert line == f"Error: database {db}: the file is damaged; try `sqlite3 FILE .recover` into a new file" \
        " (SQLite: database disk image is malformed)", line


def test_item5_damaged_database_import_names_each_file(tmp_path: Path) -> None:
    db = damaged(tmp_path)
    (tmp_path / "a.txt").write_text("Садыр Жапаров.")
    result = run("import", "--db", str(db), str(tmp_path / "a.txt"))
    assert result.exit_code == 1
    line = [ln for ln in result.output.splitlines() if ln.startswith("Error:")][0]
    assert line == "Error: a.txt: not written, the database failed: database disk image is malformed", line


@sync
async def test_item3_app_on_a_read_only_file_starts_browses_and_refuses_changes(
    seeded_store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app on a file opened read-only by SQLite itself (``mode=ro``); only the permission check
    is told the file is not writable (the tests may run as root, who can write anything)."""
    seeded_store.close()
    real_access = os.access
    monkeypatch.setattr(dbmod.os, "access", lambda p, mode: False if Path(p) == db_path and mode & os.W_OK else real_access(p, mode))
    store = Store(db_path, "alice")
    assert store.read_only and "is read-only" in store.read_only
    with pytest.raises(sqlite3.OperationalError, match="readonly"):  # SQLite refuses too, not only our check
        store.db.conn.execute("BEGIN IMMEDIATE")
        store.db.conn.execute("INSERT INTO sessions (annotator, started) VALUES ('x', 'y')")
    if store.db.conn.in_transaction:
        store.db.conn.execute("ROLLBACK")
    app = make_app(store)
    notes: list[str] = []
    real_notify = app.notify
    app.notify = lambda message, *a, **k: (notes.append(str(message)), real_notify(message, *a, **k))[1]  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        first = (await loaded(pilot)).doc_id
        await pilot.press("right", "1")
        await pilot.pause(0.1)
        await pilot.press("d")
        await pilot.pause(0.1)
        assert sum("cannot save:" in n and "is read-only" in n for n in notes) == 2, notes
        await pilot.press("]")
        await until(pilot, lambda: app.reader.doc_id != first)
        await pilot.press("q")
    assert store.db.conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 0
    assert store.db.conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    store.close()


def test_item3_read_only_file_with_an_older_schema_says_it_needs_upgrading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "old.db"
    Store(db, "alice").close()
    conn = sqlite3.connect(db)
    last = dbmod.migrations._migrations[-1].name
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [last])
    conn.commit()
    conn.close()
    real_access = os.access
    monkeypatch.setattr(dbmod.os, "access", lambda p, mode: False if Path(p) == db and mode & os.W_OK else real_access(p, mode))
    result = run("docs", "--db", str(db))
    assert result.exit_code == 1
    assert (f"Error: {db} is read-only (no write permission, or a read-only file system), and it needs upgrading"
            f" to schema version {len(dbmod.migrations._migrations)} first: open it once where it can be written"
            ) in result.output
