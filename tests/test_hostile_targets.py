"""Hostile export targets (issue 16 items 1, 11, 12, 13): devices, FIFOs, symlinks, modes, folders
holding earlier output, SIGTERM, temporary files of killed exports.

Each case runs the real ``annotate export`` (CliRunner, or the installed command in a child
process where a real file descriptor or signal is needed) against a real SQLite file.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from annotations import Store
from annotations.formats.output import MARKER
from tui.cli import main

ANNOTATE = Path(sys.executable).with_name("annotate")


@pytest.fixture
def db(seeded_store: Store, db_path: Path) -> Path:
    """The five seeds, all done by alice, the first with a PER span."""
    store = seeded_store
    ids = store.document_ids()
    toks = store.tokens(ids[0])
    store.add_span(ids[0], toks.starts[0], toks.ends[0], "PER")
    for doc_id in ids:
        store.set_status(doc_id, "done")
    return db_path


def export(db: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["export", "--db", str(db), *args])
    assert "Traceback" not in result.output
    return result


def records(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines() if line]


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != MARKER)


# -- item 1: -o targets ------------------------------------------------------------------------


def test_item1_export_to_device_node(db: Path, tmp_path: Path) -> None:
    """A character device (a copy of /dev/null) is written into, not replaced by a regular file."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    result = export(db, "-o", str(node))
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(node.stat().st_mode)
    assert hidden(tmp_path) == []


def test_item1_export_to_fifo_streams(db: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = export(db, "-o", str(fifo))
    reader.join(10)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert len(records(got[0])) == 5
    assert hidden(tmp_path) == []


def test_item1_export_keeps_the_mode_of_the_file_it_replaces(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "train.jsonl"
    out.write_text("old\n")
    out.chmod(0o600)
    result = export(db, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert len(records(out.read_bytes())) == 5


def test_item1_export_follows_a_symlink_and_keeps_it(db: Path, tmp_path: Path) -> None:
    real = tmp_path / "data" / "train.jsonl"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    result = export(db, "-o", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == real
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert len(records(real.read_bytes())) == 5
    # A dangling link gets the file it names.
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "data" / "new.jsonl")
    assert export(db, "-o", str(dangling)).exit_code == 0
    assert dangling.is_symlink() and len(records(dangling.read_bytes())) == 5


def test_item1_export_refuses_a_symlink_loop(db: Path, tmp_path: Path) -> None:
    loop = tmp_path / "loop.jsonl"
    loop.symlink_to(loop)
    result = export(db, "-o", str(loop))
    assert result.exit_code == 1
    assert f"Error: {loop} is a symlink loop" in result.output
    assert loop.is_symlink() and hidden(tmp_path) == []


def test_item1_export_to_dev_stdout(db: Path, tmp_path: Path) -> None:
    """``-o /dev/stdout`` writes through the process's own stdout: a pipe, then a file opened for append."""
    cmd = [str(ANNOTATE), "export", "--db", str(db), "-o", "/dev/stdout"]
    piped = subprocess.run(cmd, capture_output=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert len(records(piped.stdout)) == 5
    appended = tmp_path / "log.jsonl"
    appended.write_text('{"text": "kept"}\n')
    with appended.open("ab") as fh:
        done = subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = records(appended.read_bytes())
    assert lines[0] == {"text": "kept"} and len(lines) == 6


def test_item1_spacy_and_hf_to_a_stream(db: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = export(db, "--format", "spacy", "-o", str(fifo))
    reader.join(30)
    assert result.exit_code == 0, result.output
    from spacy.tokens import DocBin
    import spacy

    assert len(list(DocBin().from_bytes(got[0]).get_docs(spacy.blank("xx").vocab))) == 5
    result = export(db, "--format", "hf", "-o", str(fifo))
    assert result.exit_code == 1
    assert "hf writes labels.json beside its output; give a file" in result.output


# -- item 11: folders holding earlier output ----------------------------------------------------


def test_item11_brat_reexport_leaves_no_stale_files(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "brat"
    assert export(db, "--format", "brat", "-o", str(out)).exit_code == 0
    first = sorted(p.name for p in out.iterdir())
    assert MARKER in first and "annotation.conf" in first and len(first) == 12
    with Store(db, "alice") as store:
        for doc_id in store.document_ids()[2:]:
            store.set_status(doc_id, "todo")
    result = export(db, "--format", "brat", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *first[1:5], "annotation.conf"])
    assert f"Replaced the folder {out} whole (it held an earlier export)." in result.output
    assert hidden(tmp_path) == []


def test_item11_foreign_folder_needs_force(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    out.mkdir()
    (out / "mine.txt").write_text("my own file")
    result = export(db, "--format", "brat", "-o", str(out))
    assert result.exit_code == 1
    assert "is not empty and was not written by an export" in result.output and "--force" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    result = export(db, "--format", "brat", "-o", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert "(--force: it held files this export did not write)" in result.output
    assert "mine.txt" not in {p.name for p in out.iterdir()}


def test_item11_sharded_spacy_reexport_drops_old_shards(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "shards"
    assert export(db, "--format", "spacy", "-o", str(out)).exit_code == 0
    (out / "part-00100.spacy").write_bytes((out / "part-00000.spacy").read_bytes())
    out.chmod(0o750)
    result = export(db, "--format", "spacy", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "part-00000.spacy"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o750


# -- item 12: SIGTERM ---------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_item12_sigterm_removes_the_temporary_file(tmp_path: Path, sig: signal.Signals) -> None:
    """A child exporting 3,000 documents (tokenising them) gets SIGTERM (or SIGHUP: the SSH session
    went away) once its temp file exists."""
    db = tmp_path / "big.db"
    corpus = tmp_path / "big.jsonl"
    words = "Садыр Жапаров Бишкекке келди жана Ош шаарында сүйлөдү".split()
    with corpus.open("w", encoding="utf-8") as fh:
        for i in range(3000):
            fh.write(json.dumps({"text": f"{i} " + " ".join(words * 20), "answer": "accept",
                                 "spans": []}, ensure_ascii=False) + "\n")
    with Store(db, "alice") as store:
        from annotations import import_paths

        assert import_paths(store, [corpus]).ok
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    child = subprocess.Popen([str(ANNOTATE), "export", "--db", str(db), "--annotator", "alice", "-o", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not hidden(tmp_path) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert hidden(tmp_path), "the export finished before its temp file was seen"
    child.send_signal(sig)
    _out, err = child.communicate(timeout=60)
    assert child.returncode == 128 + sig, err
    assert b"Traceback" not in err
    assert hidden(tmp_path) == []
    assert out.read_text() == "previous\n"


# -- item 13: temp files of killed exports ------------------------------------------------------


def test_item13_stale_temp_files_are_cleaned(db: Path, tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    out = tmp_path / "train.jsonl"
    stale = tmp_path / f".train.jsonl.{dead.pid}-0123456789ab.tmp"
    stale.write_bytes(b"x" * 1000)
    stale_folder = tmp_path / f".train.jsonl.{dead.pid}-ba9876543210.tmp"
    stale_folder.mkdir()
    (stale_folder / "part-00000.spacy").write_bytes(b"x")
    live = tmp_path / f".train.jsonl.{os.getppid()}-0123456789ab.tmp"  # a running export's
    live.write_bytes(b"y")
    other = tmp_path / f".other.jsonl.{dead.pid}-0123456789ab.tmp"  # another target's
    other.write_bytes(b"z")
    result = export(db, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert not stale.exists() and not stale_folder.exists()
    assert live.exists() and other.exists()


def test_item5_export_to_a_full_device_is_a_clear_error(db: Path, tmp_path: Path) -> None:
    """A copy of /dev/full (every write fails with ENOSPC): one line, exit 1, the device left as it is."""
    full = tmp_path / "full"
    try:
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    result = export(db, "-o", str(full))
    assert result.exit_code == 1
    assert f"Error: cannot write {full}: No space left on device" in result.output
    assert stat.S_ISCHR(full.stat().st_mode) and hidden(tmp_path) == []


def test_item1_block_device_and_socket_are_refused(db: Path, tmp_path: Path) -> None:
    import socket

    sock_path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        result = export(db, "-o", str(sock_path))
    finally:
        sock.close()
    assert result.exit_code == 1
    assert f"Error: {sock_path} is a socket; export writes to files, folders, character devices and FIFOs only" \
        in result.output
    assert stat.S_ISSOCK(sock_path.stat().st_mode)
