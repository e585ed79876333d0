"""Issue 5's rows: verification (served and offline), the certificate PDF, cohorts, downloads and worker memory.

A scratch registry (the bench's backend) gets a training hub, its officer, a course, an accreditation, passed
completions and one certificate issued through the services; gunicorn serves it. The offline row needs no
database: an issuer key, a trust list, two signed status lists and 10,000 credentials are made in memory.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes.util
import http.client
import io
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.compare import Side, compare_throughput
from bench.core import Context, Measurement, benchmark
from bench.data import backend_name, bearer_token, scratch_registry
from bench.load import LOCALHOST, Client, latencies
from bench.server import PROJECT_ROOT, Server, gunicorn
from bench.standing import PING, THREADS

HUB = "IE-HUB-CERT"
COURSE = "BENCH-ALS"
HUB_OFFICER = "hub.officer@bench.registry"
HUB_PASSWORD = "bench-hub-password-2026"
CLINICIANS = 300
DOWNLOADS = 12
QUICK_DOWNLOADS = 4
COHORT = 200
QUICK_COHORT = 12
OFFLINE_TOKENS = 10_000
QUICK_OFFLINE_TOKENS = 1_000
# The verification rate limit is per client address; the load generator is one address, so it is lifted
# (the limiter still runs on every request).
UNLIMITED = {"REGISTRY_VERIFY_RATE_PER_MINUTE": "100000000", "REGISTRY_VERIFY_BURST": "100000000"}


@dataclass
class CertificateWorld:
    url: str
    server: Server
    officer_token: str
    credential: str  # the issued certificate's VC-JWT
    compact_token: str
    verification_url: str
    snapshot: dict[str, Any]
    completion_ids: list[int]  # passed completions without a certificate yet, for the download row

    @property
    def port(self) -> int:
        return self.server.port

    @contextlib.contextmanager
    def diagnosed(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            raise RuntimeError(f"{exc}\n--- gunicorn log (certificates) ---\n{self.server.log_tail()}") from exc


def _setup(url: str, numbers: list[str], completions: int) -> dict[str, Any]:
    """Hub, officer, course, accreditation, passed completions (imported), one certificate issued: all committed."""
    from flask import g

    from certificates import services as certificates
    from certificates.compact import verification_url
    from curricula import services as curricula
    from curricula.importer import import_completions
    from curricula.models import Completion
    from registry.accounts.services import create_account
    from registry.app import create_app
    from registry.core.auth import Role
    from registry.core.db import db
    from registry.people import services as people
    from registry.people.models import OrganisationKind

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ENV_NAME": "development"})
    with app.app_context():
        g.cli_actor = "bench:certificates"
        hub = people.create_organisation(code=HUB, name="Bench resuscitation hub", kind=OrganisationKind.TRAINING_HUB,
                                         member_state_code="IE", language="en")
        create_account(email=HUB_OFFICER, display_name="Bench hub officer", role=Role.HUB_OFFICER,
                       password=HUB_PASSWORD, organisation=hub)
        course = curricula.create_course(
            code=COURSE, titles={"en": "Advanced life support"}, fallback_language="en", description=None,
            competencies=["defibrillation"], cpd_hours=12, validity_months=24, professions=["2221"],
            owners=[{"hub": HUB}], actor=None)
        curricula.grant_accreditation(course, hub=hub, granted_by="IE", valid_from=date(2000, 1, 1),
                                      valid_until=None, actor=None)
        day = (date.today() - timedelta(days=30)).isoformat()
        lines = ["reference,registry_number,course,completed_on,outcome,score"]
        lines += [f"CERT-{i:05d},{numbers[i % len(numbers)]},{COURSE},{day},passed,{70 + i % 30}"
                  for i in range(completions)]
        import_completions(hub, io.BytesIO("\n".join(lines).encode()), "csv", dry_run=False, actor=None,
                           today=date.today())
        db.session.commit()
        ids = list(db.session.scalars(sa.select(Completion.id).where(Completion.hub_id == hub.id)
                                      .order_by(Completion.id)))
        first = curricula.get_completion(ids[0])
        certificate = certificates.issue(certificates.completion_draft(first), actor=None)
        db.session.commit()
        found = {
            "credential": certificate.credential,
            "compact_token": certificate.compact_token,
            "verification_url": verification_url(certificates.base_url(), certificate.compact_token, in_query=True),
            "snapshot": json.loads(json.dumps(certificate.snapshot)),
            "completion_ids": ids[1:],
        }
        db.session.remove()
        db.engine.dispose()
    return found


def certificate_world(ctx: Context) -> CertificateWorld:
    downloads = QUICK_DOWNLOADS if ctx.quick else DOWNLOADS

    @contextlib.contextmanager
    def build() -> Iterator[CertificateWorld]:
        ctx.log(f"building the certificate registry on {backend_name()}")
        with scratch_registry("certificates", CLINICIANS) as registry:
            found = _setup(registry.url, registry.numbers, downloads + 1)
            with gunicorn(registry.url, extra_env=UNLIMITED) as server:
                token = bearer_token(server.port, HUB_OFFICER, HUB_PASSWORD)
                yield CertificateWorld(registry.url, server, token, **found)

    return ctx.shared("certificates:world", build)


# --- HarfBuzz subsetting -------------------------------------------------------------------------------------


@benchmark("harfbuzz_subset_loaded", goal=">= 1", unit="bool")
def harfbuzz_subset_loaded(ctx: Context) -> Measurement:
    """1 when WeasyPrint loaded libharfbuzz-subset (font subsetting); a missing library fails the run."""
    from weasyprint.text import ffi

    library = ctypes.util.find_library("harfbuzz-subset")
    loaded = getattr(ffi, "harfbuzz_subset", None) is not None
    recent = bool(ffi.harfbuzz.hb_version_atleast(4, 1, 0))
    if not (loaded and recent):
        raise RuntimeError(
            "HarfBuzz subsetting is not in use (libharfbuzz-subset "
            f"{'found at ' + library if library else 'not found'}, loaded by WeasyPrint: {loaded}, HarfBuzz >= 4.1: "
            f"{recent}); WeasyPrint then renders several times slower. Install libharfbuzz-subset0.")
    return Measurement(1.0, {"library": library, "loaded by WeasyPrint": loaded, "HarfBuzz >= 4.1": recent})


# --- served verification -------------------------------------------------------------------------------------


@benchmark("verify_vs_ping", goal=">= 0.6", unit="x")
def verify_vs_ping(ctx: Context) -> Measurement:
    """POST /api/v1/verify {"token": <VC-JWT>} vs GET /ping on one server, req/s, 4 client threads."""
    world = certificate_world(ctx)
    body = json.dumps({"token": world.credential}).encode()
    verify = Side("verify", world.port, lambda: "/api/v1/verify", body=body)
    ping = Side("ping", world.port, lambda: PING)
    rounds, seconds = (2, 1.0) if ctx.quick else (5, 3.0)
    with world.diagnosed():
        client = Client(LOCALHOST, world.port)
        try:
            status, answer = client.post("/api/v1/verify", body)
        finally:
            client.close()
        outcome = json.loads(answer).get("outcome") if status == 200 else None
        if outcome != "VALID":
            raise RuntimeError(f"the issued certificate does not verify: {status} {answer[:300]!r}")
        for side in (verify, ping):  # both workers have imported their code and touched the tables
            latencies(side.port, side.choose, count=60, body=side.body)
        result = compare_throughput(verify, ping, rounds=rounds, seconds=seconds, threads=THREADS, log=ctx.log)
    return Measurement(result.ratio, {
        "backend": backend_name(),
        "token": f"the issued certificate's VC-JWT ({len(world.credential)} chars); outcome VALID, each logged",
        "ping req/s (median of rounds)": result.rate("ping"),
        "verify req/s (median of rounds)": result.rate("verify"),
        "per-round ratios": ", ".join(f"{r:.3f}" for r in result.ratios),
    })


# --- offline verification ------------------------------------------------------------------------------------


@dataclass
class OfflineSet:
    tokens: list[str]
    trust_list: dict[str, Any]
    status_lists: dict[str, str]
    public_key: Any


def offline_set(count: int) -> OfflineSet:
    """An issuer, its trust list, its two signed status lists and `count` signed certificate credentials."""
    import random

    from certificates.credentials import CertificateKind, build_credential, sign_credential
    from certificates.jose import ES256
    from certificates.keys import generate_key, public_key_from_jwk
    from certificates.status_list import StatusPurpose, new_bitstring, status_entry, status_list_credential
    from certificates.w3c import format_instant

    base = "https://registry.example"
    issuer = {"id": f"{base}/issuers/IE-HUB", "name": "Bench hub"}
    now = datetime.now(UTC).replace(microsecond=0)
    key, jwk = generate_key(ES256)
    lists = {purpose: f"{base}/api/v1/status-lists/{n}"
             for n, purpose in enumerate((StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION), start=1)}
    trust = {"status_list_base": f"{base}/api/v1/status-lists/", "issuers": [{
        "id": issuer["id"], "name": issuer["name"], "member_state": "IE",
        "kinds": [CertificateKind.COURSE_COMPLETION.value],
        "keys": [{"kid": jwk["kid"], "jwk": jwk, "not_before": format_instant(now - timedelta(days=30)),
                  "not_after": None, "compromised": False}]}]}
    status_lists = {}
    for purpose, url in lists.items():
        credential = status_list_credential(list_url=url, issuer=issuer, purpose=purpose, bits=new_bitstring(),
                                            valid_from=now - timedelta(hours=1), valid_until=now + timedelta(hours=47))
        status_lists[url] = sign_credential(credential, key, jwk["kid"], issued_at=now - timedelta(hours=1))
    rng = random.Random(5)  # noqa: S311 - status indexes, not secrets
    tokens = []
    for i in range(count):
        credential = build_credential(
            credential_id=uuid.UUID(int=rng.getrandbits(128), version=4), kind=CertificateKind.COURSE_COMPLETION,
            issuer=issuer, subject={"id": f"urn:registry:clinician:BENCH-{i}", "name": f"Clinician {i}",
                                    "registryNumber": f"BENCH-{i}", "course": {"code": COURSE, "cpdHours": 12}},
            valid_from=now - timedelta(days=10), valid_until=now + timedelta(days=700),
            status=[status_entry(lists[purpose], rng.randrange(131_072), purpose) for purpose in lists],
            name="Certificate of course completion")
        tokens.append(sign_credential(credential, key, jwk["kid"], issued_at=now - timedelta(minutes=5)))
    return OfflineSet(tokens, trust, status_lists, public_key_from_jwk(jwk))


def raw_verify(tokens: list[str], public_key: Any) -> int:
    """ES256 signatures checked by `cryptography` alone: split, decode, R||S to DER, verify. Nothing else."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    algorithm = ec.ECDSA(hashes.SHA256())
    for token in tokens:
        signing_input, _, signature_b64 = token.rpartition(".")
        signature = base64.urlsafe_b64decode(signature_b64 + "=" * (-len(signature_b64) % 4))
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        public_key.verify(der, signing_input.encode("ascii"), algorithm)
    return len(tokens)


@benchmark("offline_verify_vs_cryptography", goal=">= 0.5", unit="x")
def offline_verify_vs_cryptography(ctx: Context) -> Measurement:
    """Tokens/s of the CLI's offline verifier (verify_many) vs raw cryptography ES256 checks of the same tokens."""
    from certificates.offline import verify_many

    count = QUICK_OFFLINE_TOKENS if ctx.quick else OFFLINE_TOKENS
    rounds = 2 if ctx.quick else 3
    made = time.perf_counter()
    data = offline_set(count)
    made = time.perf_counter() - made
    results = verify_many(data.tokens, data.trust_list, data.status_lists)
    invalid = [r.outcome.value for r in results if not r.valid]
    if invalid:
        raise RuntimeError(f"{len(invalid)} of {count} tokens did not verify VALID, e.g. {invalid[0]}")

    def run_verifier() -> float:
        began = time.perf_counter()
        verify_many(data.tokens, data.trust_list, data.status_lists)
        return time.perf_counter() - began

    def run_raw() -> float:
        began = time.perf_counter()
        raw_verify(data.tokens, data.public_key)
        return time.perf_counter() - began

    ratios, verifier_s, raw_s = _interleave(ctx, rounds, run_verifier, run_raw, "verify_many", "cryptography")
    return Measurement(statistics.median(ratios), {
        "tokens": f"{count:,} VC-JWTs (ES256) with revocation and suspension entries; 2 signed status lists",
        "verify_many tokens/s (median)": count / statistics.median(verifier_s),
        "cryptography tokens/s (median)": count / statistics.median(raw_s),
        "per-round ratios": ", ".join(f"{r:.3f}" for r in ratios),
        "seconds to sign the tokens (setup)": made,
    })


def _interleave(ctx: Context, rounds: int, subject: Callable[[], float], baseline: Callable[[], float],
                subject_name: str, baseline_name: str) -> tuple[list[float], list[float], list[float]]:
    """Rounds of both (order alternating); per round the ratio baseline time / subject time (a throughput ratio)."""
    ratios, subject_s, baseline_s = [], [], []
    for index in range(rounds):
        if index % 2 == 0:
            a, b = subject(), baseline()
        else:
            b, a = baseline(), subject()
        subject_s.append(a)
        baseline_s.append(b)
        ratios.append(b / a)
        ctx.log(f"  round {index + 1}/{rounds}: {baseline_name} {b * 1000:.0f} ms, {subject_name} {a * 1000:.0f} ms, "
                f"ratio {ratios[-1]:.3f}")
    return ratios, subject_s, baseline_s


# --- the PDF ---------------------------------------------------------------------------------------------------


@benchmark("pdf_render_vs_weasyprint", goal="<= 1.25", unit="x")
def pdf_render_vs_weasyprint(ctx: Context) -> Measurement:
    """Time per certificate of render_pdf vs a bare WeasyPrint HTML(string).write_pdf() of the same HTML and CSS."""
    from weasyprint import HTML

    from certificates import render

    world = certificate_world(ctx)
    html = render.certificate_html(world.snapshot, world.verification_url)
    rounds, per_round = (2, 2) if ctx.quick else (6, 3)

    def ours() -> float:
        began = time.perf_counter()
        render.render_pdf(world.snapshot, world.credential, world.verification_url)
        return time.perf_counter() - began

    def bare() -> float:
        began = time.perf_counter()
        HTML(string=html).write_pdf()
        return time.perf_counter() - began

    ours(), bare()  # fonts, caches and imports warm on both sides
    samples: dict[str, list[float]] = {"render_pdf": [], "weasyprint": []}
    ratios = []
    for index in range(rounds):
        this_round: dict[str, list[float]] = {"render_pdf": [], "weasyprint": []}
        for i in range(per_round):
            order = (("render_pdf", ours), ("weasyprint", bare))
            if (index * per_round + i) % 2:
                order = order[::-1]
            for name, run in order:
                this_round[name].append(run())
        for name, values in this_round.items():
            samples[name] += values
        ratios.append(statistics.median(this_round["render_pdf"]) / statistics.median(this_round["weasyprint"]))
        ctx.log(f"  round {index + 1}/{rounds}: weasyprint {statistics.median(this_round['weasyprint']) * 1000:.0f} "
                f"ms, render_pdf {statistics.median(this_round['render_pdf']) * 1000:.0f} ms, ratio {ratios[-1]:.3f}")
    ours_ms = statistics.median(samples["render_pdf"]) * 1000
    bare_ms = statistics.median(samples["weasyprint"]) * 1000
    return Measurement(ours_ms / bare_ms, {
        "render_pdf: QR code, template, data-only fetcher, credential attachment": f"{ours_ms:.0f} ms (median)",
        "bare WeasyPrint, same HTML (CSS inline)": f"{bare_ms:.0f} ms (median)",
        "renders per side": len(samples["render_pdf"]),
        "per-round ratios": ", ".join(f"{r:.3f}" for r in ratios),
    })


def _cohort_jobs(world: CertificateWorld, count: int) -> list[tuple[dict[str, Any], str, str]]:
    jobs = []
    for i in range(count):
        snapshot = json.loads(json.dumps(world.snapshot))
        snapshot["holder"]["name"] = f"{snapshot['holder']['name']} {i}"
        jobs.append((snapshot, world.credential, world.verification_url))
    return jobs


@contextlib.contextmanager
def _pool_workers(n: int) -> Iterator[None]:
    from certificates import render

    saved = render.POOL_WORKERS
    render.POOL_WORKERS = n
    try:
        yield
    finally:
        render.POOL_WORKERS = saved


@benchmark("cohort_2_workers_speedup", goal=">= 1.7", unit="x")
def cohort_2_workers_speedup(ctx: Context) -> Measurement:
    """A 200-certificate cohort through render.render_many: time on 1 worker process / time on 2 (spawn included)."""
    from certificates import render

    world = certificate_world(ctx)
    count = QUICK_COHORT if ctx.quick else COHORT
    rounds = 1 if ctx.quick else 2
    jobs = _cohort_jobs(world, count)

    def on(workers: int) -> Callable[[], float]:
        def run() -> float:
            with _pool_workers(workers):
                began = time.perf_counter()
                pdfs = render.render_many(jobs)
                seconds = time.perf_counter() - began
            if len(pdfs) != count:
                raise RuntimeError(f"render_many gave {len(pdfs)} PDFs for {count} jobs")
            return seconds

        return run

    ratios, two_s, one_s = _interleave(ctx, rounds, on(2), on(1), "2 workers", "1 worker")
    return Measurement(statistics.median(ratios), {
        "certificates per cohort": count,
        "seconds on 1 worker / on 2 (median)": f"{statistics.median(one_s):.1f} / {statistics.median(two_s):.1f}",
        "ms per certificate on 1 worker / on 2": f"{statistics.median(one_s) / count * 1000:.0f} / "
                                                 f"{statistics.median(two_s) / count * 1000:.0f}",
        "CPU cores": multiprocessing.cpu_count(),
        "per-round ratios": ", ".join(f"{r:.3f}" for r in ratios),
    })


def _request(port: int, method: str, path: str, headers: dict[str, str]) -> tuple[float, int, bytes]:
    conn = http.client.HTTPConnection(LOCALHOST, port, timeout=120)
    try:
        began = time.perf_counter()
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return time.perf_counter() - began, response.status, body
    finally:
        conn.close()


@benchmark("second_download_speedup", goal=">= 50", unit="x")
def second_download_speedup(ctx: Context) -> Measurement:
    """Issue (the PDF is rendered then) + first GET /pdf, over a second GET /pdf, served, hub officer token."""
    world = certificate_world(ctx)
    headers = {"Authorization": f"Bearer {world.officer_token}", "Accept": "application/json"}
    firsts, issues, first_gets, seconds_ = [], [], [], []
    with world.diagnosed():
        _request(world.port, "GET", PING, headers)
        for completion_id in world.completion_ids:
            issued, status, body = _request(world.port, "POST", f"/api/v1/completions/{completion_id}/certificate",
                                            headers)
            if status != 201:
                raise RuntimeError(f"issuing for completion {completion_id} answered {status}: {body[:300]!r}")
            path = f"/api/v1/certificates/{json.loads(body)['id']}/pdf"
            first, status, pdf = _request(world.port, "GET", path, headers)
            second, status2, pdf2 = _request(world.port, "GET", path, headers)
            if status != 200 or status2 != 200 or pdf != pdf2 or not pdf.startswith(b"%PDF-"):
                raise RuntimeError(f"GET {path} answered {status}/{status2}, identical: {pdf == pdf2}")
            issues.append(issued)
            first_gets.append(first)
            firsts.append(issued + first)
            seconds_.append(second)
    first_ms, second_ms = statistics.median(firsts) * 1000, statistics.median(seconds_) * 1000
    return Measurement(first_ms / second_ms, {
        "design": "the PDF is rendered once, when the certificate is issued (POST), and stored; GET /pdf serves it",
        "value": "median (issue POST + first GET /pdf) / median second GET /pdf, each on a fresh connection",
        "certificates": len(firsts),
        "issue POST ms (median)": statistics.median(issues) * 1000,
        "first GET ms (median)": statistics.median(first_gets) * 1000,
        "second GET ms (median)": second_ms,
        "PDF bytes": len(pdf),
    })


# --- worker memory -------------------------------------------------------------------------------------------


@benchmark("pdf_worker_peak_mib", goal="<= 150", unit="MiB")
def pdf_worker_peak_mib(ctx: Context) -> Measurement:
    """Peak RSS (MiB) of the largest render worker process while a fresh process renders a 200-certificate cohort."""
    world = certificate_world(ctx)
    count = QUICK_COHORT if ctx.quick else COHORT
    with tempfile.TemporaryDirectory(prefix="registry-bench-pdf-") as tmp:
        path = Path(tmp) / "jobs.json"
        path.write_text(json.dumps(_cohort_jobs(world, count)))
        done = subprocess.run([sys.executable, "-m", "bench.certificates", "--worker-memory", str(path)],
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the render child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return Measurement(found["children_peak_kib"] / 1024, {
        "value": "ru_maxrss of RUSAGE_CHILDREN: the largest of the pool's worker processes (spawned interpreters)",
        "certificates / worker processes": f"{found['pdfs']} / {found['workers']}",
        "parent process peak MiB": found["self_peak_kib"] / 1024,
        "seconds": found["seconds"],
    })


def _worker_memory_child(path: Path) -> None:
    import resource

    from certificates import render

    jobs = [tuple(job) for job in json.loads(path.read_text())]
    began = time.perf_counter()
    pdfs = render.render_many(jobs)  # type: ignore[arg-type]
    seconds = time.perf_counter() - began
    print(json.dumps({
        "children_peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "self_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "pdfs": len(pdfs), "workers": render.POOL_WORKERS, "seconds": seconds,
    }))


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.certificates")
    parser.add_argument("--worker-memory", type=Path, required=True, metavar="JOBS_JSON")
    args = parser.parse_args(argv)
    _worker_memory_child(args.worker_memory)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
