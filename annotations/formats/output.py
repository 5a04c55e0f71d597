"""Running an export: pick the writer, and write to stdout, a file, a device or a folder without half-written output.

Where the output goes (``-o``) decides how it is written:

* a new name, or an existing regular file: written to a hidden temporary file beside it
  (``.NAME.PID-XXXX.tmp``) and renamed over it at the end; an existing file keeps its
  permission bits (and, where allowed, its owner). A symlink is followed: the file it
  points to is replaced and the link stays a link. A symlink loop is refused.
* a character device or a FIFO (``/dev/null``, a terminal, a named pipe), and
  ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``: streamed into directly, never replaced.
* anything else (a block device, a socket) is refused.
* a folder (brat, sharded DocBin): written into a temporary folder that then replaces the
  target whole, so no file of an earlier export is left beside the new ones. A folder is
  only replaced if it is new, empty or an earlier export's (it holds :data:`MARKER`);
  any other non-empty folder is refused unless ``force``.

If anything fails, or the process gets SIGINT, SIGTERM or SIGHUP, the temporary output is removed
and the target is left as it was. Temporary files of an export that was killed outright
(``kill -9``) are removed by the next export to the same target.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import signal
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from ..store import Store
from .export import ExportItem, ExportProgress, ExportStats, MisalignedSpan, Selection, iter_items

__all__ = [
    "FORMATS", "MARKER", "SUGGESTION_FORMATS", "ExportError", "clean_stale_temps", "guess_format",
    "run_export",
]

FORMATS = ("jsonl", "spacy", "conll", "hf", "brat")
#: Formats that can carry pending suggestions apart from accepted spans.
SUGGESTION_FORMATS = ("jsonl", "spacy")
_BY_SUFFIX = {
    ".jsonl": "jsonl", ".spacy": "spacy", ".conll": "conll", ".iob": "conll", ".iob2": "conll",
    ".bio": "conll",
}
#: The file a folder export leaves in its folder, so the next export may replace the folder whole.
MARKER = ".annotate-export"
#: ``.NAME.PID-HEX.tmp`` (a file or folder being written) or ``.NAME.PID-HEX.old`` (a folder being replaced).
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{12}\.(?:tmp|old)$")
#: Temporary names of earlier versions, without the process id: stale after an hour.
_OLD_TEMP = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{12}\.tmp$")
#: Paths that name a file descriptor of this process: written through the descriptor itself.
_FD_PATHS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_FD_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")


class ExportError(Exception):
    """An export that cannot be done as asked (bad output path, unknown label...)."""


def guess_format(output: Path | None) -> str:
    """The format an output name implies (``.spacy`` -> spacy, ``.conll`` -> conll), else jsonl."""
    if output is None:
        return "jsonl"
    return _BY_SUFFIX.get(output.suffix.lower(), "jsonl")


# -- temporary names -----------------------------------------------------------------------


def _temp_name(target: Path, kind: str = "tmp") -> Path:
    """A hidden, unused name beside ``target`` that says which process made it."""
    return target.parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(6)}.{kind}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's live process
        return True
    return True


def clean_stale_temps(folder: Path, name: str) -> list[Path]:
    """Remove the temporary files and folders that killed exports to ``folder/name`` left behind.

    Only names of our own making count (``.NAME.PID-XXXX.tmp``/``.old`` whose process is
    gone); returns what was removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.match(entry.name)
        if m:
            stale = m["name"] == name and not _alive(int(m["pid"]))
        else:
            m = _OLD_TEMP.match(entry.name)
            try:
                stale = bool(m) and m["name"] == name and time.time() - entry.stat(follow_symlinks=False).st_mtime > 3600
            except OSError:
                stale = False
        if not stale:
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


# -- where the output goes -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    """A resolved ``-o``: ``path`` to write, and ``kind``: new, file (regular) or stream."""

    path: Path
    kind: str
    st: os.stat_result | None = None
    fd: int | None = None


def _fd_of(output: Path) -> int | None:
    s = str(output)
    if s in _FD_PATHS:
        return _FD_PATHS[s]
    m = _FD_PATH.match(s)
    return int(m[1]) if m else None


def _file_target(output: Path) -> _Target:
    """What ``output`` is, with symlinks followed; refuses what an export must not replace."""
    fd = _fd_of(output)
    if fd is not None:
        try:
            os.fstat(fd)
        except OSError:
            raise ExportError(f"{output}: file descriptor {fd} is not open") from None
        return _Target(output, "stream", fd=fd)
    try:
        st = os.stat(output)
    except FileNotFoundError:
        dest = Path(os.path.realpath(output)) if output.is_symlink() else output
        if not dest.parent.is_dir():
            raise ExportError(f"folder {dest.parent} does not exist") from None
        return _Target(dest, "new")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ExportError(f"{output} is a symlink loop; give another output name") from None
        raise ExportError(f"cannot use {output}: {exc.strerror}") from None
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise ExportError(f"{output} is a folder; give a file name")
    if stat.S_ISREG(mode):
        return _Target(Path(os.path.realpath(output)), "file", st)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return _Target(output, "stream", st)
    what = "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "a special file"
    raise ExportError(f"{output} is {what}; export writes to files, folders, character devices and FIFOs only")


def _keep_owner_and_mode(tmp: Path, st: os.stat_result) -> None:
    """Give the replacement the permission bits (and, if we may, the owner) of the file it replaces."""
    if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):
            os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, stat.S_IMODE(st.st_mode))


@contextlib.contextmanager
def _replacing(resolved: _Target) -> Iterator[Path]:
    """A temporary path beside a new or regular-file target, renamed over it at the end."""
    target = resolved.path
    clean_stale_temps(target.parent, target.name)
    tmp = _temp_name(target)
    tmp.open("xb").close()  # created with the user's umask, unlike mkstemp's 0600
    try:
        yield tmp
        if resolved.st is not None:
            _keep_owner_and_mode(tmp, resolved.st)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def _output_path(output: Path) -> Iterator[Path]:
    """A path to write a whole file to: beside a file target, or scratch that is then copied into
    a device or FIFO target."""
    resolved = _file_target(output)
    if resolved.kind != "stream":
        with _replacing(resolved) as tmp:
            yield tmp
        return
    fd, scratch = tempfile.mkstemp(prefix=".annotate-export-", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(scratch)
        with _open_stream(resolved) as out, open(scratch, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(scratch)


@contextlib.contextmanager
def _open_stream(resolved: _Target) -> Iterator[BinaryIO]:
    if resolved.fd is not None:
        fh = os.fdopen(os.dup(resolved.fd), "wb")
    else:
        fh = open(resolved.path, "wb")
    with fh:
        yield fh


@contextlib.contextmanager
def _output_file(output: Path) -> Iterator[BinaryIO]:
    """A binary file handle for ``output``: a temporary file renamed over it, or the stream itself."""
    resolved = _file_target(output)
    if resolved.kind == "stream":
        with _open_stream(resolved) as fh:
            yield fh
        return
    with _replacing(resolved) as tmp, tmp.open("wb") as fh:
        yield fh


def _folder_state(target: Path) -> str:
    """``new``, ``empty``, ``ours`` (an earlier export's, with :data:`MARKER`) or ``foreign``."""
    if not target.exists():
        return "new"
    names = {e.name for e in os.scandir(target)}
    if not names:
        return "empty"
    return "ours" if MARKER in names else "foreign"


@contextlib.contextmanager
def _atomic_folder(target: Path, fmt: str, stats: ExportStats, *, force: bool = False) -> Iterator[Path]:
    """A temporary folder that replaces ``target`` whole when the block succeeds."""
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target} is a file; give a folder for this format")
    if not target.parent.is_dir():
        raise ExportError(f"folder {target.parent} does not exist")
    try:
        state = _folder_state(target)
    except OSError as exc:
        raise ExportError(f"cannot read folder {target}: {exc.strerror}") from None
    if state == "foreign" and not force:
        raise ExportError(
            f"{target} is not empty and was not written by an export; give a new or empty folder,"
            " or --force to replace it and everything in it"
        )
    clean_stale_temps(target.parent, target.name)
    tmp = _temp_name(target)
    tmp.mkdir()
    try:
        yield tmp
        (tmp / MARKER).write_text(json.dumps({"format": fmt, "files": stats.files}) + "\n", encoding="utf-8")
        if state == "new":
            os.replace(tmp, target)
        else:
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
            old = _temp_name(target, "old")
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
            if state != "empty":
                stats.notes.append(
                    f"Replaced the folder {target} whole"
                    + (" (--force: it held files this export did not write)." if state == "foreign" else
                       " (it held an earlier export).")
                )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


#: Signals that end an export the way SIGINT does: ``kill``, and the terminal (an SSH session) going away.
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs in the main thread, SIGTERM and SIGHUP unwind like SIGINT (temporary
    output removed); the process then exits with 128 + the signal's number, as if it had killed it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def _same_file(output: Path, db: Path) -> bool:
    """Whether ``output`` would overwrite the database (or its WAL files)."""
    try:
        target, base = output.resolve(), db.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (refused by _file_target)
        return False
    return target in (base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm"))


def _tag_labels(store: Store, sel: Selection) -> list[str]:
    names = [lab.name for lab in store.labels()]
    return [n for n in names if n in sel.labels] if sel.labels else names


def run_export(
    store: Store,
    fmt: str,
    sel: Selection,
    output: Path | None,
    *,
    stdout: BinaryIO | None = None,
    progress: ExportProgress | None = None,
    force: bool = False,
) -> ExportStats:
    """Export the selection in ``fmt`` to ``output`` (a file, or a folder for brat and sharded
    spaCy), or to ``stdout`` for jsonl and conll when ``output`` is None.

    ``force``: replace a non-empty folder that an earlier export did not write.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if sel.include_suggestions and fmt not in SUGGESTION_FORMATS:
        raise ExportError(
            f"{fmt} cannot keep suggestions apart from accepted spans; use jsonl or spacy"
            " with --include-suggestions"
        )
    known = {lab.name for lab in store.labels()}
    unknown = [lab for lab in sel.labels if lab not in known]
    if unknown:
        raise ExportError(f"no label {unknown[0]!r}; the labels are {', '.join(sorted(known))}")
    if output is None and fmt in ("spacy", "hf", "brat"):
        what = {"spacy": "a .spacy file or a folder", "hf": "a .jsonl file (<name>.labels.json goes beside it)",
                "brat": "a folder"}[fmt]
        raise ExportError(f"{fmt} needs an output: give -o with {what}")
    if output is not None and _same_file(output, store.path):
        raise ExportError(f"{output} is the database itself; give another output name")
    with _sigterm_as_interrupt():
        return _run(store, fmt, sel, output, stdout, progress, force)


def _run(
    store: Store, fmt: str, sel: Selection, output: Path | None, stdout: BinaryIO | None,
    progress: ExportProgress | None, force: bool,
) -> ExportStats:
    stats = ExportStats()
    try:
        return _write(store, fmt, sel, output, stats, stdout, progress, force)
    except MisalignedSpan as exc:
        raise ExportError(str(exc)) from None


def _write(
    store: Store, fmt: str, sel: Selection, output: Path | None, stats: ExportStats,
    stdout: BinaryIO | None, progress: ExportProgress | None, force: bool,
) -> ExportStats:
    # closed however the export ends, so a tokenising process it started ends with it
    # a JSONL export reads (and caches) each document's serialised parts with its tokens
    with contextlib.closing(iter_items(store, sel, progress=progress, stats=stats, prodigy=fmt == "jsonl")) as items:
        return _write_items(store, fmt, sel, output, stats, stdout, force, items)


def _write_items(
    store: Store, fmt: str, sel: Selection, output: Path | None, stats: ExportStats,
    stdout: BinaryIO | None, force: bool, items: Iterator[ExportItem],
) -> ExportStats:
    if fmt == "brat":
        from .brat import write_brat

        assert output is not None
        with _atomic_folder(output, fmt, stats, force=force) as folder:
            write_brat(items, folder, stats, _tag_labels(store, sel))
        return stats
    if fmt == "spacy":
        from .spacy_docbin import SHARD, write_docbin

        assert output is not None
        if output.is_dir() or (output.suffix == "" and _fd_of(output) is None and not _is_stream(output)):
            with _atomic_folder(output, fmt, stats, force=force) as folder:
                write_docbin(items, folder, stats, shard=SHARD)
        else:
            with _output_path(output) as tmp:
                write_docbin(items, tmp, stats)
            stats.files[-1:] = [output.name]
        return stats
    if fmt == "hf" and output is not None and _file_target(output).kind == "stream":
        raise ExportError(f"{output} is not a regular file: hf writes labels.json beside its output; give a file")
    with contextlib.ExitStack() as stack:
        out = stdout if output is None else stack.enter_context(_output_file(output))
        assert out is not None
        if fmt == "jsonl":
            from .jsonl import write_jsonl

            write_jsonl(items, out, stats)
        elif fmt == "conll":
            from .conll import write_conll

            write_conll(items, out, stats)
        else:
            from .hf import labels_path, write_hf, write_labels
            from .iob import tag_names

            assert output is not None
            names = tag_names(_tag_labels(store, sel))
            write_hf(items, out, names, stats)
            with _output_path(labels_path(output)) as tmp:
                write_labels(tmp, names)
            stats.files.append(labels_path(output).name)
    return stats


def _is_stream(output: Path) -> bool:
    try:
        mode = os.stat(output).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)
