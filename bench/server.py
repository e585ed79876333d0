"""The registry under gunicorn, as a subprocess on a free 127.0.0.1 port; always terminated."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.load import LOCALHOST

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKERS = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


def registry_env(database_url: str) -> dict[str, str]:
    """The environment of a registry process bound to `database_url` (other REGISTRY_* settings dropped)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(REGISTRY_DATABASE_URL=database_url, REGISTRY_ENV="development", REGISTRY_LOG_LEVEL="WARNING")
    return env


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection(LOCALHOST, port, timeout=2)
    try:
        conn.request("GET", "/api/v1/ping")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def gunicorn(database_url: str, *, workers: int = WORKERS, startup_seconds: float = 60.0,
             extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `gunicorn --workers N 'registry.app:create_app()'`, wait for /api/v1/ping, stop it on exit.

    `extra_env` adds settings (REGISTRY_* variables) to the registry's environment.
    """
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)
    command = [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"{LOCALHOST}:{port}",
               "--graceful-timeout", "5", *_no_control_socket(), "registry.app:create_app()"]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env={**registry_env(database_url), **(extra_env or {})},
                               stdout=log_file,
                               stderr=subprocess.STDOUT, start_new_session=True)
    log_file.close()
    server = Server(port, process, Path(log_file.name))
    try:
        deadline = time.monotonic() + startup_seconds
        while not _answers(port):
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer /api/v1/ping within {startup_seconds:g} s")
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)
        with contextlib.suppress(OSError):
            server.log_path.unlink()


def _no_control_socket() -> list[str]:
    """gunicorn 25.1+ opens a control socket at one fixed path per user; several servers at once must not share it."""
    try:
        from gunicorn import version_info
    except ImportError:
        return []
    return ["--no-control-socket"] if version_info >= (25, 1) else []


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the arbiter (it stops its workers), then SIGKILL to its process group if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
