"""What the benchmarks share: wrk (installed on demand) and its output, gunicorn servers run in their own process
groups, a throw-away database with the example sites, and the facts about the machine that go with figures."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class BenchError(RuntimeError):
    """The benchmark cannot measure (setup failed, a server misbehaved): abort with this message."""


def ensure_wrk() -> str:
    """wrk's path, installing the Debian package first if it is missing (CI and fresh machines lack it)."""
    if found := shutil.which("wrk"):
        return found
    if not shutil.which("apt-get"):
        raise BenchError("wrk is not installed and there is no apt-get here: install wrk (https://github.com/wg/wrk)")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            raise BenchError("wrk is not installed: run 'apt-get install -y wrk' as root")
        prefix = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "--no-install-recommends", "wrk"]

    def run(cmd: list[str]) -> subprocess.CompletedProcess:
        print(f"wrk is missing: {' '.join(cmd)}", file=sys.stderr, flush=True)
        return subprocess.run(cmd, env=env, capture_output=True, text=True)

    result = run(install)
    if result.returncode != 0:
        update = run([*prefix, "apt-get", "update"])
        result = run(install) if update.returncode == 0 else update
    if result.returncode != 0 or not (found := shutil.which("wrk")):
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-10:])
        raise BenchError(f"could not install wrk with apt-get:\n{tail}")
    return found


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}  # to milliseconds


@dataclass
class WrkResult:
    rps: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx responses plus socket errors (connect, read, write, timeout)


def parse_wrk(output: str) -> WrkResult:
    """Requests/s, the 99% line of --latency's "Latency Distribution", the request count and the errors."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p99 = re.search(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    count = re.search(r"^\s*(\d+) requests in ", output, re.M)
    if not (rps and p99 and count):
        raise BenchError(f"could not read wrk's output:\n{output}")
    errors = 0
    if non2xx := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors += int(non2xx.group(1))
    if sock := re.search(r"Socket errors:\s+connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in sock.groups())
    return WrkResult(float(rps.group(1)), float(p99.group(1)) * UNITS[p99.group(2)], int(count.group(1)), errors)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_options(args: argparse.Namespace) -> list[str]:
    options = ["-k", "gthread", "-w", str(args.workers), "--threads", str(args.threads)]
    # wrk opens all its keep-alive connections in one burst and keeps them: left alone, one worker often grabs
    # most or all of them and the other idles, which halves the throughput at random (measured: 2 000 to
    # 6 500 requests/s for the same case). Capping each worker's connections spreads them evenly.
    if args.worker_connections:
        options += ["--worker-connections", str(args.worker_connections)]
    options += ["--log-level", "warning"]
    help_text = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True, check=False
    ).stdout
    if "--no-control-socket" in help_text:  # gunicorn 25+: two arbiters would share ~/.gunicorn/gunicorn.ctl
        options.append("--no-control-socket")
    return options


@dataclass
class Server:
    name: str
    app: str
    options: list[str]
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, probe: str, timeout: float = 30.0) -> None:
        cmd = [sys.executable, "-m", "gunicorn", *self.options, "-b", f"127.0.0.1:{self.port}", self.app]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} server exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                status, _, _ = request(self.port, probe)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"{self.name} server did not answer within {timeout:g} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop gunicorn's whole process group (arbiter and workers)."""
        if self.process is None or self.process.poll() is not None:
            return
        pgid = self.process.pid  # start_new_session: the arbiter leads its own group
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):  # workers left behind by a killed arbiter
            os.killpg(pgid, signal.SIGKILL)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def request(
    port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET", body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def write_signing_key(path: Path) -> None:
    """An Ed25519 PKCS#8 PEM key for CMP_SIGNING_KEY, which production requires (receipts and checkpoints)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


def in_process_app(database_url: str, instance: Path):
    """The service as a Flask app in this process, for filling a database and timing what runs in-process: a
    signing key of its own in ``instance``, checkpoints signed only when asked."""
    from consent import create_app
    from consent.config import Settings
    from consent.core.signing import SigningKey

    key = instance / "signing-key.pem"
    if not key.exists():
        key.write_bytes(SigningKey.generate("bench.local").pem())
    settings = Settings(
        env="testing", database_url=database_url, signing_key=str(key), log_name="bench.local", checkpoint_seconds=0
    )
    return create_app(settings)


def quadient_site(app):
    """Migrate the in-process app's database and load the Quadient example site; its ``Site`` and live version
    hash. Inside an app context."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from consent import publishing
    from consent.extensions import db
    from consent.models import Site

    upgrade()
    result = app.test_cli_runner().invoke(args=["cmp", "load", str(ROOT / "examples" / "quadient.yaml")])
    if result.exit_code != 0:
        raise BenchError(f"loading the Quadient example failed:\n{result.output}")
    site = db.session.scalar(select(Site).where(Site.key == "quadient"))
    return site, publishing.live_version(site).hash


def prepare_database(env: dict[str, str]) -> None:
    examples = sorted(str(p) for p in (ROOT / "examples").glob("*.yaml"))
    flask = [sys.executable, "-m", "flask", "--app", "consent"]
    for cmd in ([*flask, "db", "upgrade"], [*flask, "cmp", "load", *examples]):
        result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise BenchError(f"{' '.join(cmd[2:])} failed:\n{result.stdout}{result.stderr}")


def machine_facts() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    try:
        commit = (
            subprocess.run(
                ["git", "describe", "--always", "--dirty=+uncommitted changes"],
                cwd=ROOT,
                capture_output=True,
                text=True,
            ).stdout.strip()
            or "?"
        )
    except OSError:
        commit = "?"
    return {
        "code": commit,
        "cpus": str(os.cpu_count()),
        "cpus_usable": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?",
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "gunicorn": version("gunicorn"),
        "flask": version("flask"),
        "werkzeug": version("werkzeug"),
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_wrk(command: list[str], seconds: int) -> WrkResult:
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return parse_wrk(result.stdout)


def wrk_version(wrk: str) -> str:
    first = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.splitlines()[0:1]
    return first[0].split(" Copyright")[0] if first else "wrk"


@contextlib.contextmanager
def stopping_on_signals(servers: list[Server]):
    """Stop every server started in the block, also on Ctrl-C, SIGTERM and SIGHUP."""

    def terminate(signum, frame):  # run the finally block on SIGTERM/SIGHUP too
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def service_env(tmp: Path, **settings: str) -> dict[str, str]:
    """The environment of the service under test: production settings, a fresh signing key, the rate limit out of
    the way (one load generator is one address), and none of the caller's own ``CMP_*`` settings."""
    import secrets

    key = tmp / "signing-key.pem"
    if not key.exists():
        write_signing_key(key)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CMP_", "PROMETHEUS_"))}
    return env | {
        "CMP_ENV": "production",
        "CMP_SECRET_KEY": secrets.token_urlsafe(48),
        "CMP_REGION_OVERRIDE": "true",
        "CMP_SIGNING_KEY": str(key),
        "CMP_LOG_NAME": "bench.local",
        "CMP_RATE_LIMIT": "10000000 per minute",
        "CMP_INSTANCE_PATH": str(tmp / "instance"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **settings,
    }


@contextlib.contextmanager
def postgres_schema(base_url: str, schema: str):
    """A schema of the benchmark's own on a PostgreSQL server, dropped afterwards; yields its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(base_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as error:
        raise BenchError(f"PostgreSQL at {base_url} is not reachable ({error.orig})") from None
    try:
        yield f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def flask_command(env: dict[str, str], *arguments: str) -> str:
    """``flask --app consent ...`` in the service's environment; its output."""
    command = [sys.executable, "-m", "flask", "--app", "consent", *arguments]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    return result.stdout + result.stderr


def run_bench(run, args) -> int:
    """Run ``run(args, tmp, servers)`` in a throw-away folder, stopping every server it started (before the folder
    goes: they have their database and logs open in it); exit code 2 when the benchmark could not measure."""
    import tempfile

    try:
        with tempfile.TemporaryDirectory(prefix="cmp-bench-") as tmp, stopping_on_signals([]) as servers:
            return run(args, Path(tmp), servers)
    except BenchError as error:
        print(f"\nbench: ABORTED: {error}", file=sys.stderr)
        return 2
