"""A small HTTP load generator for 127.0.0.1 only: keep-alive connections, a few threads, bounded in time and count."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LOCALHOST = "127.0.0.1"
MAX_REQUESTS_PER_THREAD = 200_000
MAX_SECONDS = 60.0
MAX_THREADS = 16

PathChooser = Callable[[], str]


def _check(host: str, seconds: float, threads: int = 1) -> None:
    if host != LOCALHOST:
        raise ValueError(f"the load generator only talks to {LOCALHOST}, not {host}")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"a load round lasts at most {MAX_SECONDS:g} s")
    if not 0 < threads <= MAX_THREADS:
        raise ValueError(f"at most {MAX_THREADS} client threads")


class Client:
    """One keep-alive connection. The server may close it after any response; the next request reopens it."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None, timeout: float = 30.0):
        _check(host, 1.0)
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self.headers = {"Connection": "keep-alive", "Accept": "application/json", **(headers or {})}

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
            body = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            raise
        if response.will_close:
            self.conn.close()
        return response.status, body

    def post(self, path: str, body: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
        try:
            self.conn.request("POST", path, body=body, headers={**self.headers, "Content-Type": content_type})
            response = self.conn.getresponse()
            payload = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            raise
        if response.will_close:
            self.conn.close()
        return response.status, payload

    def send(self, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """GET `path`, or POST `body` (JSON) to it when a body is given."""
        return self.get(path) if body is None else self.post(path, body)

    def close(self) -> None:
        self.conn.close()


@dataclass
class LoadResult:
    ok: int
    errors: int
    seconds: float
    first_error: str | None = None

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


def throughput(port: int, choose_path: PathChooser, *, seconds: float, threads: int = 4,
               headers: dict[str, str] | None = None, host: str = LOCALHOST, body: bytes | None = None) -> LoadResult:
    """Successful requests per second from `threads` clients looping until the deadline (POSTs when `body`)."""
    _check(host, seconds, threads)
    counts = [0] * threads
    errors = [0] * threads
    first_error: list[str] = []
    start = threading.Barrier(threads + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        client = Client(host, port, headers)
        try:
            start.wait()
            end = deadline[0]
            for _ in range(MAX_REQUESTS_PER_THREAD):
                if time.perf_counter() >= end:
                    break
                try:
                    status, answer = client.send(choose_path(), body)
                except (http.client.HTTPException, OSError) as exc:
                    errors[index] += 1
                    first_error.append(f"{type(exc).__name__}: {exc}")
                    continue
                if status == 200:
                    counts[index] += 1
                else:
                    errors[index] += 1
                    first_error.append(f"HTTP {status}: {answer[:200]!r}")
        finally:
            client.close()

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in workers:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in workers:
        thread.join(seconds + 60)
    elapsed = time.perf_counter() - began
    return LoadResult(sum(counts), sum(errors), elapsed, first_error[0] if first_error else None)


def latencies(port: int, choose_path: PathChooser, *, count: int, headers: dict[str, str] | None = None,
              host: str = LOCALHOST, client: Client | None = None, body: bytes | None = None) -> list[float]:
    """Seconds per request for `count` sequential requests from one client; any non-200 is an error."""
    _check(host, 1.0)
    if not 0 < count <= 10_000:
        raise ValueError("between 1 and 10,000 sequential requests")
    own = client is None
    client = client or Client(host, port, headers)
    samples = []
    try:
        for _ in range(count):
            path = choose_path()
            began = time.perf_counter()
            status, answer = client.send(path, body)
            samples.append(time.perf_counter() - began)
            if status != 200:
                raise RuntimeError(f"{'GET' if body is None else 'POST'} {path} answered {status}: {answer[:300]!r}")
    finally:
        if own:
            client.close()
    return samples


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
