"""Shared, run-wide fixtures: a scratch registry of a given size served by gunicorn, signed in as a board officer."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

from bench.core import Context
from bench.data import ScratchRegistry, backend_name, bearer_token, scratch_registry
from bench.server import Server, gunicorn


@dataclass
class ServedRegistry:
    name: str
    registry: ScratchRegistry
    server: Server
    token: str
    build_seconds: float

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @contextlib.contextmanager
    def diagnosed(self) -> Iterator[None]:
        """Failures carry the end of this server's log (its errors say why a request failed)."""
        try:
            yield
        except Exception as exc:
            raise RuntimeError(f"{exc}\n--- gunicorn log ({self.name}) ---\n{self.server.log_tail()}") from exc

    def random_standing_path(self, rng: random.Random) -> str:
        return f"/api/v1/clinicians/{rng.choice(self.registry.numbers)}/standing"


def served_registry(ctx: Context, name: str, clinicians: int) -> ServedRegistry:
    """The registry `name` with `clinicians` clinicians behind a gunicorn server, built once per run."""

    @contextlib.contextmanager
    def build() -> Iterator[ServedRegistry]:
        ctx.log(f"building scratch registry {name!r} on {backend_name()} with {clinicians:,} clinicians")
        began = time.monotonic()
        with scratch_registry(name, clinicians) as registry:
            built = time.monotonic() - began
            ctx.log(f"registry {name!r} ready in {built:.1f} s; starting gunicorn")
            with gunicorn(registry.url) as server:
                token = bearer_token(server.port, registry.officer_email, registry.officer_password)
                yield ServedRegistry(name, registry, server, token, built)
            ctx.log(f"gunicorn for {name!r} stopped")

    served = ctx.shared(f"registry:{name}", build)
    if served.registry.clinicians != clinicians:
        raise RuntimeError(f"registry {name!r} exists with {served.registry.clinicians} clinicians, not {clinicians}")
    return served
