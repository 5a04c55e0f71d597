"""``annotate serve``: the annotator app in web browsers, through textual-serve.

Each browser tab gets its own app process (``python -m tui.serve_app``) on the shared
database, working under the name the tab gives: ``/?annotator=NAME`` in the address, else a
name prompt in the app. It listens on loopback unless told otherwise with ``--allow-remote``
(there is no authentication: an SSH tunnel is the safe way in from another machine).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

import click

from annotations import import_seeds, inert

from .cli_common import CONTEXT_SETTINGS, console, db_option, err_console, get_store

__all__ = ["serve_command", "is_loopback", "tunnel_hint"]

log = logging.getLogger("annotate.serve")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def tunnel_hint(port: int) -> str:
    """The SSH command that brings a loopback-only server to another machine's browser."""
    return (f"ssh -N -L {port}:127.0.0.1:{port} you@this-server   # on your machine;"
            f" then open http://127.0.0.1:{port}/")


def _make_server(db_path: Path | None, host: str, port: int) -> Any:
    """A textual-serve server whose tabs each run the app under the tab's own annotator."""
    import aiohttp_jinja2
    from aiohttp import WSCloseCode, web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server

    from .serve_app import ANNOTATOR_ENV, SERVER_ENV

    command = f"{shlex.quote(sys.executable)} -m tui.serve_app"
    if db_path is not None:  # else the tabs read $ANNOTATE_DB (a PostgreSQL URL: no password in argv)
        command += f" --db {shlex.quote(str(db_path))}"

    class TabService(AppService):
        """One tab's app process, told its annotator through the environment (never a shell word)."""

        def __init__(self, annotator: str, **kwargs: Any) -> None:
            super().__init__(command, **kwargs)
            self.annotator = annotator

        async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
            """As textual-serve starts it, but in a session of its own: Ctrl+C in the server's
            terminal reaches the server alone, which then tells each tab's app to quit."""
            self._process = process = await asyncio.create_subprocess_shell(
                self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=self._build_environment(width=width, height=height),
                start_new_session=True,
            )
            self._stdin = process.stdin
            return process

        def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
            env = super()._build_environment(width, height)
            env.pop(ANNOTATOR_ENV, None)
            env[SERVER_ENV] = str(os.getpid())
            if self.annotator:
                env[ANNOTATOR_ENV] = self.annotator
            return env

    class AnnotateServer(Server):
        def __init__(self) -> None:
            super().__init__(command, host=host, port=port, title="annotate")
            self.sockets: set[web.WebSocketResponse] = set()

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.router.add_get("/ws/as/{annotator:.+}", self.handle_websocket, name="tab_websocket")
            return app

        @aiohttp_jinja2.template("app_index.html")
        async def handle_index(self, request: web.Request) -> dict[str, Any]:
            name = request.query.get("annotator", "").strip()[:64]
            route = request.app.router["tab_websocket"].url_for(annotator=name) if name else \
                request.app.router["websocket"].url_for()
            scheme = "wss" if request.secure else "ws"
            font_size = request.query.get("fontsize", "16")
            return {
                "font_size": int(font_size) if font_size.isdigit() and 6 <= int(font_size) <= 48 else 16,
                "app_websocket_url": f"{scheme}://{request.host}{route}",
                "config": {"static": {"url": "/static/"}},
                "application": {"name": "annotate" + (f" · {name}" if name else "")},
            }

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            websocket = web.WebSocketResponse(heartbeat=15)
            width = _size(request.query.get("width"), 80)
            height = _size(request.query.get("height"), 24)
            service = None
            self.sockets.add(websocket)
            try:
                await websocket.prepare(request)
                service = TabService(
                    request.match_info.get("annotator", "").strip(),
                    write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                    close=websocket.close, download_manager=self.download_manager,
                )
                await service.start(width, height)
                await self._process_messages(websocket, service)
            except asyncio.CancelledError:
                await websocket.close()
            except Exception as exc:  # noqa: BLE001 - one tab's failure never stops the server
                log.warning("browser session failed: %s", inert(str(exc)))
            finally:
                self.sockets.discard(websocket)
                if service is not None:
                    await service.stop()
            return websocket

        async def on_startup(self, app: web.Application) -> None:
            pass

        async def on_shutdown(self, app: web.Application) -> None:
            for ws in list(self.sockets):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped")

    return AnnotateServer()


def _size(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() and 10 <= int(value) <= 1000 else default


async def _run(server: Any, host: str, port: int, url: str) -> int:
    """Listen until SIGINT/SIGTERM; returns how many browser sessions were open at the end."""
    from aiohttp import web

    app = await server._make_app()
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=5)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise click.ClickException(f"cannot listen on {inert(host)}:{port}: {inert(exc.strerror or str(exc))}")
    click.echo(f"Serving the annotator app at {url}")
    click.echo(f"Open it in a browser (or {url}?annotator=NAME to skip the name prompt). Ctrl+C stops.")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    open_tabs = len(server.sockets)
    await runner.cleanup()
    return open_tabs


@click.command("serve", context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs --allow-remote.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--allow-remote", is_flag=True,
              help="Allow a non-loopback --host: anyone who reaches it can annotate (no authentication).")
def serve_command(db_path: Path | None, host: str, port: int, allow_remote: bool) -> None:
    """Serve the annotator app to web browsers (each tab is its own app on the database).

    The browser user gives a name when the tab opens (or in the address:
    /?annotator=NAME); everything they do is saved under it, as in the terminal app.
    It listens on 127.0.0.1 only: from another machine, use an SSH tunnel.

    Example:

        annotate serve --db news.db --port 8000
    """
    if not is_loopback(host) and not allow_remote:
        raise click.ClickException(
            f"{inert(host)} is not a loopback address and the served app has no authentication."
            f" Use an SSH tunnel instead ({tunnel_hint(port)}), or pass --allow-remote if every"
            " machine that can reach it may annotate."
        )
    store = get_store(db_path, "serve")
    with store:
        db: Path | None = store.path.resolve()
        if store.backend.name != "sqlite":
            os.environ["ANNOTATE_DB"] = store.location
            db = None
        if store.count_documents() == 0:
            report = import_seeds(store)
            console.print(f"The database was empty: imported {report.added} bundled seed documents.")
    if not is_loopback(host):
        err_console.print(
            f"Warning: listening on {inert(host)}:{port} with no authentication: anyone who can reach it"
            " can open the app and annotate under any name. Safer: serve on 127.0.0.1 and use an SSH"
            f" tunnel: {tunnel_hint(port)}"
        )
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s", stream=sys.stderr)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    server = _make_server(db, host, port)
    os.environ.pop("TEXTUAL", None)
    open_tabs = asyncio.run(_run(server, host, port, url))
    click.echo(f"Stopped ({open_tabs} browser session(s) closed); every action was already saved.")
