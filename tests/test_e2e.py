"""End to end: the installed ``annotate`` command in a real terminal (tmux), driven by keys alone.

It starts on a new database (filled from the bundled seeds), tags "Садыр Жапаров" in the first
seed article as PER with ``n`` ``n`` ``n`` ``n`` ``shift+right`` ``1``, quits with ``q``, and
reads the database: the span's offsets must be exactly those of the name in the text. It runs
at 120×40 and at 80×24.

The terminal is the test's own whatever it is started from (a plain shell, a tmux pane, CI): its
own tmux server (``-L``, no user config, no status line), its own size, and an environment
without the caller's ``TMUX``, ``LINES``, ``COLUMNS`` or ``TERM``.
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


#: Variables of the terminal the tests were started from that must not reach the app's terminal.
CALLER_TERMINAL = ("TMUX", "TMUX_PANE", "LINES", "COLUMNS", "TERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION",
                   "COLORTERM", "STY", "WINDOW")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the caller's terminal, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in CALLER_TERMINAL}
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


class Terminal:
    """A tmux session on its own server socket, read as plain text with ``capture-pane``."""

    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env

    def tmux(self, *args: str, check: bool = False) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, *args],
            capture_output=True, text=True, timeout=30, check=check, env=self.env,
        )
        return done.stdout

    def start(self, command: str, width: int = 120, height: int = 40) -> None:
        # The session starts with a shell that waits, so the server's options are set before the app runs.
        self.tmux("new-session", "-d", "-s", "e2e", "-x", str(width), "-y", str(height), "cat", check=True)
        self.tmux("set-option", "-g", "status", "off")
        self.tmux("set-option", "-g", "default-size", f"{width}x{height}")
        self.tmux("resize-window", "-t", "e2e", "-x", str(width), "-y", str(height))
        self.tmux("respawn-pane", "-k", "-t", "e2e", command, check=True)

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
@pytest.mark.parametrize(("width", "height"), [(120, 40), (80, 24)])
def test_tag_a_name_with_keys_alone_in_a_real_terminal(tmp_path: Path, width: int, height: int) -> None:
    assert ANNOTATE.exists(), f"the annotate console script is not installed next to {sys.executable}"
    db = tmp_path / "e2e.db"
    env = clean_env(XDG_CONFIG_HOME=str(tmp_path), COLORTERM="truecolor")
    inner = f"env -u LINES -u COLUMNS TERM=xterm-256color COLORTERM=truecolor XDG_CONFIG_HOME={shlex.quote(str(tmp_path))}"
    command = f"{inner} {shlex.quote(str(ANNOTATE))} --db {shlex.quote(str(db))} --annotator e2e; echo E2E-EXIT-$?; sleep 60"
    term = Terminal(f"annotate-e2e-{os.getpid()}-{width}x{height}", env)
    if width < 100:
        # At 80 columns the seeds' notice would cover the status bar: import them first instead.
        from annotations import seeds_dir

        subprocess.run([str(ANNOTATE), "import", "--db", str(db), str(seeds_dir())], check=True,
                       capture_output=True, timeout=120, env=env)
    term.start(command, width, height)
    progress = "0 / 5 done" if width >= 100 else "0/5 done"
    try:
        def opened(screen: str) -> bool:
            lines = screen.split("\n")
            # A whole frame at the terminal's size: the footer on the last line.
            return "0 entities" in screen and progress in screen and len(lines) >= height and "Quit" in lines[height - 1]

        screen = term.wait_for(opened, "the first seed article to open, the whole frame drawn")
        assert all(len(line) <= width for line in screen.split("\n"))
        assert ("Documents" in screen) == (width >= 100)  # the list starts hidden at 80 columns
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
