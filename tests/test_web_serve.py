"""``annotate serve`` in a real headless browser: Debian's Chromium driven by Playwright.

The installed command serves a fresh database on a free loopback port; one tab answers the
name prompt and tags "Садыр Жапаров" as PER with the app's keys, another opens with
``?annotator=`` in the address. The database is then read: the span is there under the
browser user's name. The page is saved as ``test-artifacts/serve-browser.png``.
Ctrl+C (SIGINT to the server's process group) then stops it cleanly, with both tabs'
sessions ended.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tui.cli import main
from tui.cli_serve import is_loopback

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))
NAME = "Айгүл"
OTHER = "bek/2 & <co>"  # from the address: a slash, an ampersand, angle brackets


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _poll(what: str, check: Callable[[], object], timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _rows(db: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """``annotate serve`` on a free loopback port; yields (process, URL, database)."""
    annotate = Path(sys.executable).with_name("annotate")
    db = tmp_path / "served.db"
    port = _free_port()
    proc = subprocess.Popen([str(annotate), "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if "Serving" not in first:  # the seeds notice comes first on a new database
            first = proc.stdout.readline()
        assert f"Serving the annotator app at http://127.0.0.1:{port}/" in first, first + proc.stderr.read()
        yield proc, f"http://127.0.0.1:{port}/", db
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_tag_a_name_in_a_real_browser(server: tuple[subprocess.Popen[str], str, Path]) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("no chromium on this machine (CI installs Debian's: apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    proc, url, db = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 720})
            page.goto(url)
            page.wait_for_selector("body.-first-byte", timeout=45_000)
            other = browser.new_page(viewport={"width": 1000, "height": 600})
            other.goto(url + "?annotator=" + urllib.parse.quote(OTHER))
            page.focus(".xterm-helper-textarea")
            # The name prompt has the focus once it is up; keys sent before that are lost, so
            # on a slow machine clear the field and type the name again.
            for attempt in range(3):
                page.wait_for_timeout(500)
                page.keyboard.press("Home")
                page.keyboard.press("Control+k")
                page.keyboard.type(NAME)
                page.keyboard.press("Enter")
                try:
                    _poll("the browser user's session", lambda: _rows(
                        db, "SELECT id FROM sessions WHERE annotator = ?", NAME), timeout=15)
                    break
                except AssertionError:
                    if attempt == 2:
                        raise
            _poll("the app to open the first document for the browser user",
                  lambda: _rows(db, "SELECT doc_id FROM cursors WHERE annotator = ?", NAME), timeout=30)
            for key in ("n", "n", "n", "n", "Shift+ArrowRight", "1"):
                page.keyboard.press(key)
            spans = _poll("the span in the database", lambda: _rows(
                db, "SELECT doc_id, start, end, label FROM spans WHERE annotator = ? AND state = 'accepted'", NAME))
            _poll("the second tab's session (annotator from the address)",
                  lambda: _rows(db, "SELECT id FROM sessions WHERE annotator = ?", OTHER))
            page.wait_for_timeout(300)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "serve-browser.png"))
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C in its terminal, both tabs still open
            out, err = proc.communicate(timeout=15)
        finally:
            browser.close()
    text = _rows(db, "SELECT text FROM documents WHERE id = 1")[0][0]
    start = text.index("Садыр Жапаров")
    assert spans == [(1, start, start + len("Садыр Жапаров"), "PER")]
    assert not _rows(db, "SELECT 1 FROM spans WHERE annotator NOT IN (?)", NAME)
    assert {r[0] for r in _rows(db, "SELECT annotator FROM sessions")} == {NAME, OTHER}

    assert proc.returncode == 0, err
    assert "Stopped (2 browser session(s) closed)" in out
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in out + err
    assert not _rows(db, "SELECT id FROM sessions WHERE ended IS NULL")


def test_the_page_treats_a_name_in_the_address_as_data(server: tuple[subprocess.Popen[str], str, Path]) -> None:
    import urllib.request

    _proc, url, _db = server
    name = '"><script>alert(1)</script>'
    with urllib.request.urlopen(url + "?annotator=" + urllib.parse.quote(name), timeout=10) as response:
        page = response.read().decode("utf-8")
    assert "<script>alert" not in page
    assert "annotate · &#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'data-session-websocket-url="ws://127.0.0.1:' in page
    assert "/ws/as/%22%3E%3Cscript%3Ealert(1)%3C" in page


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.5", "::", "example.org"))


def test_other_addresses_need_the_flag(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "a.db"), "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "no authentication" in result.output and "ssh -N -L 8000:127.0.0.1:8000" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "a.db").exists()


def test_allowed_remote_address_warns_and_says_when_it_cannot_listen(tmp_path: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the bind fails, nothing is sent anywhere.
    result = CliRunner().invoke(
        main, ["serve", "--db", str(tmp_path / "a.db"), "--host", "192.0.2.1", "--port", "8123", "--allow-remote"])
    assert result.exit_code == 1, result.output
    assert "Warning: listening on 192.0.2.1:8123 with no authentication" in result.output
    assert "ssh -N -L 8123:127.0.0.1:8123" in result.output
    assert "Error: cannot listen on 192.0.2.1:8123" in result.output


def test_busy_port_is_a_clean_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "a.db"), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "Traceback" not in result.output
