"""A throwaway PostgreSQL server for tests and benchmarks (``initdb`` + ``pg_ctl``).

The server lives in a temp folder, listens only on a Unix socket in that folder (no TCP
port), trusts local connections and runs without fsync (its data is thrown away). As root
(CI), ``initdb`` refuses to run, so the server is run as the ``postgres`` user through
``runuser``, on a folder that user owns. :func:`start` returns ``None`` with the reason
when no server can be started here.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

__all__ = ["PgServer", "start", "find_bindir"]


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH, ``pg_config --bindir``, or Debian's."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = []
    if shutil.which("pg_config"):
        try:
            candidates.append(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                             check=True).stdout.strip())
        except (OSError, subprocess.CalledProcessError):
            pass
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


@dataclass
class PgServer:
    """A running server: ``url(dbname)`` for a database on it, ``new_database()`` for a fresh one."""

    folder: Path
    bindir: Path
    prefix: list[str]
    #: The server's options (``pg_ctl start -o``), to start it again the same way after :meth:`halt`.
    opts: str = ""
    _n: count = field(default_factory=lambda: count(1))
    _template: str | None = None

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.folder}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def new_database(self, migrated: bool = True) -> str:
        """A new, empty database (with annotate's schema already applied unless ``migrated=False``)."""
        name = f"t{os.getpid()}_{next(self._n)}"
        if migrated:
            if self._template is None:
                self._template = f"tmpl{os.getpid()}"
                self.admin(f"CREATE DATABASE {self._template}")
                from annotations.store.postgres_backend import PostgresBackend

                PostgresBackend(self.url(self._template)).close()
            self.admin(f"CREATE DATABASE {name} TEMPLATE {self._template}")
        else:
            self.admin(f"CREATE DATABASE {name}")
        return self.url(name)

    def restart(self) -> None:
        """Restart the server (fast shutdown: open connections are cut), as an admin would."""
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"),
                        "-m", "fast", "-w", "-l", str(self.folder / "log"), "restart"], capture_output=True, check=True)

    def halt(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: connections are told and cut; ``immediate``: as a crash),
        keeping its data, until :meth:`resume` starts it again on the same socket."""
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"),
                        "-m", mode, "-w", "stop"], capture_output=True, check=True)

    def resume(self) -> None:
        """Start the server again after :meth:`halt` (same data, same socket)."""
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"),
                        "-o", self.opts, "-l", str(self.folder / "log"), "-w", "-t", "30", "start"],
                       capture_output=True, check=True)

    def stop(self) -> None:
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"),
                        "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> tuple[PgServer | None, str]:
    """Start a server; ``(server, "")``, or ``(None, why not)``."""
    bindir = find_bindir()
    if bindir is None:
        return None, "PostgreSQL is not installed (no initdb/pg_ctl on PATH, in pg_config --bindir or /usr/lib/postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None, "psycopg is not installed"
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="annotate-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        try:
            import pwd

            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder, ignore_errors=True)
            return None, "running as root and there is no 'postgres' user to run initdb as"
        if runuser is None:
            shutil.rmtree(folder, ignore_errors=True)
            return None, "running as root and runuser is missing (initdb refuses to run as root)"
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = [runuser, "-u", "postgres", "--"]
    data = folder / "data"
    init = subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
         "--locale=C.UTF-8", "--no-sync"],
        capture_output=True, text=True,
    )
    if init.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        return None, f"initdb failed: {(init.stderr or init.stdout).strip().splitlines()[-1:]}"
    opts = (f"-c listen_addresses='' -k {folder} -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=60 -c shared_buffers=64MB")
    run = subprocess.run(
        [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "-t", "30",
         "start"],
        capture_output=True, text=True,
    )
    if run.returncode:
        log = (folder / "log").read_text(errors="replace")[-500:] if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        return None, f"pg_ctl start failed: {run.stderr.strip()} {log}"
    return PgServer(folder, bindir, prefix, opts), ""
