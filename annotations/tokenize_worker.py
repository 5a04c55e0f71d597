"""A tokenising process: the second core's share of a first export.

:class:`TokenWorker` starts a plain child process running :func:`serve` (``python -c``
loading this file and ``tokenize.py`` by path, without the ``annotations`` package) (not ``multiprocessing``: its ``spawn`` runs the parent's main script again in the
child, and ``fork`` is unsafe in the app's threads) and talks to it over its stdin and
stdout: each request is a pickled ``(texts, prodigy)``: a list of ``(text, lang)`` and whether
the documents' cached JSONL parts are wanted too; each answer the pickled list of their
``Tokens.to_bytes()`` (with ``prodigy``: ``(blob, tokenize_prodigy.cache_entry)`` pairs),
both framed by an 8-byte length, answered in order. A
thread in the parent reads the answers as they come, so the parent can send the next
request while the child is still writing the last answer.

The child renews its spaCy pipelines when their vocab passes :data:`RENEW_AT` words (a
vocab and the tokenizer's cache keep every string they have seen), so its memory stays
flat over a million documents; the tokens are the same either way.
"""

from __future__ import annotations

import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any, Sequence

__all__ = ["RENEW_AT", "TokenWorker", "WorkerGone", "serve"]

#: Lexemes a worker's pipeline may hold before it is replaced by a fresh one.
RENEW_AT = 200_000
_HEAD = 8


class WorkerGone(Exception):
    """The tokenising process ended (killed, out of memory) or could not be started."""


def _read_frame(stream: IO[bytes]) -> bytes | None:
    head = stream.read(_HEAD)
    if len(head) < _HEAD:
        return None
    size = int.from_bytes(head, "little")
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def _write_frame(stream: IO[bytes], data: bytes) -> None:
    stream.write(len(data).to_bytes(_HEAD, "little"))
    stream.write(data)
    stream.flush()


def _load(name: str, path: Path) -> Any:
    """The module in the file ``path``, loaded under ``name`` (without the ``annotations`` package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


#: The child's command: this file, ``tokenize.py`` and ``tokenize_prodigy.py`` are loaded by path, so the child does not
#: import the ``annotations`` package (about 100 MB and two seconds it has no use for).
_CHILD = (
    "import importlib.util as u, sys; s = u.spec_from_file_location('annotate_tokenize_worker', {path!r});"
    " m = u.module_from_spec(s); sys.modules[s.name] = m; s.loader.exec_module(m);"
    " m.serve(sys.stdin.buffer, sys.stdout.buffer)"
)


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The child's loop: tokenise each request, answer it, until stdin closes."""
    if __package__:
        from . import tokenize, tokenize_prodigy
    else:
        tokenize = _load("annotate_tokenize", Path(__file__).with_name("tokenize.py"))
        tokenize_prodigy = _load("annotate_tokenize_prodigy", Path(__file__).with_name("tokenize_prodigy.py"))

    while (request := _read_frame(stdin)) is not None:
        texts, prodigy = pickle.loads(request)
        answer: list[Any] = tokenize.tokenize_many(texts)
        if prodigy:
            entry = tokenize_prodigy.cache_entry
            answer = [(blob, entry(text, blob)) for (text, _lang), blob in zip(texts, answer)]
        _write_frame(stdout, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
        tokenize.renew_pipelines(RENEW_AT)


class TokenWorker:
    """The parent's side: :meth:`submit` a list of ``(text, lang)``, :meth:`result` its blobs
    (or ``(blob, entry)`` pairs), in order."""

    def __init__(self) -> None:
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD.format(path=str(Path(__file__).resolve()))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise WorkerGone(str(exc)) from None
        self.answers: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.reader = threading.Thread(target=self._read, name="token-worker-reader", daemon=True)
        self.reader.start()
        self.sent = 0
        self.received = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            while (frame := _read_frame(self.proc.stdout)) is not None:
                self.answers.put(frame)
        except (OSError, ValueError):
            pass
        self.answers.put(None)

    def submit(self, texts: Sequence[tuple[str, str]], prodigy: bool = False) -> None:
        assert self.proc.stdin is not None
        try:
            _write_frame(self.proc.stdin, pickle.dumps((list(texts), prodigy), protocol=pickle.HIGHEST_PROTOCOL))
        except (OSError, ValueError):
            raise WorkerGone("the tokenising process has ended") from None
        self.sent += 1

    def result(self) -> list[Any]:
        """The answer to the oldest request not yet collected."""
        if self.received >= self.sent:
            raise WorkerGone("no request is waiting for an answer")
        frame = self.answers.get()
        if frame is None:
            self.answers.put(None)  # every later result() fails the same way
            raise WorkerGone("the tokenising process has ended")
        self.received += 1
        return pickle.loads(frame)

    def close(self) -> None:
        """End the child (closing its stdin ends its loop) and wait for it."""
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
