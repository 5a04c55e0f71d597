"""End to end: the installed ``annotate`` command in a real terminal (tmux), driven by keys alone.

It starts on a new database (filled from the bundled seeds), tags "Садыр Жапаров" in the first
seed article as PER with ``n`` ``n`` ``n`` ``n`` ``shift+right`` ``1``, quits with ``q``, and
reads the database: the span's offsets must be exactly those of the name in the text.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from annotations import Store

pytestmark = pytest.mark.e2e

ANNOTATE = Path(sys.executable).parent / "annotate"


class Terminal:
    """A tmux session on its own server socket, read as plain text with ``capture-pane``."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30, check=False
        )
        return done.stdout

    def start(self, command: str, width: int = 120, height: int = 40) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "new-session", "-d", "-s", "e2e", "-x", str(width), "-y", str(height), command],
            check=True, timeout=30,
        )

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "e2e", *keys)

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; the screen showed:\n{screen}")

    def close(self) -> None:
        self.tmux("kill-server")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_tag_a_name_with_keys_alone_in_a_real_terminal(tmp_path: Path) -> None:
    assert ANNOTATE.exists(), f"the annotate console script is not installed next to {sys.executable}"
    db = tmp_path / "e2e.db"
    env = f"env XDG_CONFIG_HOME={shlex.quote(str(tmp_path))} TERM=xterm-256color COLORTERM=truecolor"
    command = f"{env} {shlex.quote(str(ANNOTATE))} --db {shlex.quote(str(db))} --annotator e2e; echo E2E-EXIT-$?; sleep 60"
    term = Terminal(f"annotate-e2e-{os.getpid()}")
    term.start(command)
    try:
        term.wait_for(lambda s: "0 entities" in s and "0 / 5 done" in s, "the first seed article to open")
        term.keys("n", "n", "n", "n")
        term.keys("S-Right")
        term.wait_for(lambda s: "«Садыр Жапаров»" in s, "the selection to show in the status bar")
        term.keys("1")
        term.wait_for(lambda s: "1 entity" in s, "the entity to be saved and shown")
        term.keys("q")
        screen = term.wait_for(lambda s: "E2E-EXIT-" in s, "the app to quit", timeout=30)
        assert "E2E-EXIT-0" in screen
        assert "Session: 0 documents done, 1 span added" in screen
    finally:
        term.close()

    with Store(db, "e2e") as store:
        text = store.text(1)
        start = text.index("Садыр Жапаров")
        spans = store.spans(1, states=("accepted", "pending", "rejected"))
        accepted = [(s.start, s.end, s.label) for s in spans if s.state == "accepted"]
        assert accepted == [(start, start + len("Садыр Жапаров"), "PER")]
        assert text[start : start + len("Садыр Жапаров")] == "Садыр Жапаров"
        assert store.cursor() == (1, text.index("Жапаров", start))
