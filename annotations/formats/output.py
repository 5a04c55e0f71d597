"""Running an export: pick the writer, and write to stdout, a file or a folder without half-written output.

A file is written to a hidden temporary file beside it and renamed over the target at the
end; a folder export (brat, sharded DocBin) is written into a temporary folder whose files
are moved in at the end. If anything fails, the temporary output is removed and the
target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import secrets
from pathlib import Path
from typing import BinaryIO, Iterator

from ..store import Store
from .export import ExportProgress, ExportStats, MisalignedSpan, Selection, iter_items

__all__ = ["FORMATS", "SUGGESTION_FORMATS", "ExportError", "guess_format", "run_export"]

FORMATS = ("jsonl", "spacy", "conll", "hf", "brat")
#: Formats that can carry pending suggestions apart from accepted spans.
SUGGESTION_FORMATS = ("jsonl", "spacy")
_BY_SUFFIX = {
    ".jsonl": "jsonl", ".spacy": "spacy", ".conll": "conll", ".iob": "conll", ".iob2": "conll",
    ".bio": "conll",
}


class ExportError(Exception):
    """An export that cannot be done as asked (bad output path, unknown label...)."""


def guess_format(output: Path | None) -> str:
    """The format an output name implies (``.spacy`` -> spacy, ``.conll`` -> conll), else jsonl."""
    if output is None:
        return "jsonl"
    return _BY_SUFFIX.get(output.suffix.lower(), "jsonl")


def _temp_name(target: Path) -> Path:
    """A hidden, unused name beside ``target``."""
    return target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"


@contextlib.contextmanager
def _atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed over it when the block succeeds."""
    if target.is_dir():
        raise ExportError(f"{target} is a folder; give a file name")
    if not target.parent.is_dir():
        raise ExportError(f"folder {target.parent} does not exist")
    tmp = _temp_name(target)
    tmp.open("xb").close()  # created with the user's umask, unlike mkstemp's 0600
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def _atomic_file(target: Path) -> Iterator[BinaryIO]:
    with _atomic_path(target) as tmp, tmp.open("wb") as fh:
        yield fh


@contextlib.contextmanager
def _atomic_folder(target: Path) -> Iterator[Path]:
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target} is a file; give a folder for this format")
    if not target.parent.is_dir():
        raise ExportError(f"folder {target.parent} does not exist")
    fresh = not target.exists()
    tmp = _temp_name(target)
    tmp.mkdir()
    try:
        yield tmp
        if fresh:
            os.replace(tmp, target)
        else:
            for child in sorted(tmp.iterdir()):
                os.replace(child, target / child.name)
            tmp.rmdir()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _same_file(output: Path, db: Path) -> bool:
    """Whether ``output`` would overwrite the database (or its WAL files)."""
    try:
        target, base = output.resolve(), db.resolve()
    except OSError:
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
) -> ExportStats:
    """Export the selection in ``fmt`` to ``output`` (a file, or a folder for brat and sharded
    spaCy), or to ``stdout`` for jsonl and conll when ``output`` is None."""
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
    stats = ExportStats()
    try:
        return _run(store, fmt, sel, output, stats, stdout, progress)
    except MisalignedSpan as exc:
        raise ExportError(str(exc)) from None


def _run(
    store: Store, fmt: str, sel: Selection, output: Path | None, stats: ExportStats,
    stdout: BinaryIO | None, progress: ExportProgress | None,
) -> ExportStats:
    items = iter_items(store, sel, progress=progress, stats=stats)
    if fmt == "brat":
        from .brat import write_brat

        assert output is not None
        with _atomic_folder(output) as folder:
            write_brat(items, folder, stats, _tag_labels(store, sel))
        return stats
    if fmt == "spacy":
        from .spacy_docbin import SHARD, write_docbin

        assert output is not None
        if output.is_dir() or output.suffix == "":
            with _atomic_folder(output) as folder:
                write_docbin(items, folder, stats, shard=SHARD)
        else:
            with _atomic_path(output) as tmp:
                write_docbin(items, tmp, stats)
            stats.files[-1:] = [output.name]
        return stats
    with contextlib.ExitStack() as stack:
        out = stdout if output is None else stack.enter_context(_atomic_file(output))
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
            with _atomic_path(labels_path(output)) as tmp:
                write_labels(tmp, names)
            stats.files.append(labels_path(output).name)
    return stats
