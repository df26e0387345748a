"""Benchmark of the auditor's exports and of the audit bundle's verifier, on up to one million records.

    python bench/export.py                            # 200,000 and 1,000,000 records on SQLite
    python bench/export.py --sizes 20000 100000       # a quicker run
    python bench/export.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test

It fills a throw-away database with the Quadient example site and the largest size of consent records of
realistic shape (varied choices, methods, regions, personal data; a few erased), in the site's log with a signed
checkpoint every 50,000 positions, as the service would have written them. Then, for each size, it exports the
first that many records through the API (``GET /api/v1/sites/quadient/records``, an auditor key, the streamed
response read to the end) as CSV and as NDJSON, each run in a fresh child process that reports records/s and its
peak resident memory (VmHWM); the exports of two sizes show whether memory grows with size. Last, it builds the
audit bundle of the largest size (``flask cmp audit-bundle``) and times ``tools/verify_bundle.py`` on it.

Targets (issue 6): exports at least 100,000 records/s with a peak under 150 MB; the verifier at least 200,000
records/s. Each figure is the best of ``--rounds`` runs. On PostgreSQL it uses (and drops) the schema
``cmp_bench_audit``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import in_process_app, quadient_site  # noqa: E402

SCHEMA = "cmp_bench_audit"
BATCH = 20_000
CHECKPOINT_EVERY = 50_000
EXPORT_TARGET = 100_000
MEMORY_TARGET_MB = 150
VERIFY_TARGET = 200_000


# --- filling the database --------------------------------------------------------------------------------------

METHODS = [  # method, analytics, marketing, country, subdivision, rule
    ("accept_all", True, True, "FR", None, ("opt-in-regions", "GDPR and ePrivacy Directive", "opt_in")),
    ("reject_all", False, False, "DE", None, ("opt-in-regions", "GDPR and ePrivacy Directive", "opt_in")),
    ("custom", True, False, "US", "US-CA", ("california", "CCPA/CPRA", "opt_out")),
    ("reject_all", False, False, "BE", None, ("opt-in-regions", "GDPR and ePrivacy Directive", "opt_in")),
    ("gpc", False, False, "US", "US-CA", ("california", "CCPA/CPRA", "opt_out")),
    ("accept_all", True, True, "JP", None, ("rest-of-world", "no specific consent law", "notice")),
]
BROWSERS = [
    ("Firefox 140", "Linux", "desktop"),
    ("Mobile Safari 17", "iOS", "mobile"),
    ("Chrome 141", "Windows", "desktop"),
]


def _templates(version: str) -> list[str]:
    """One record document per kind of decision, canonical, with ``%s`` where records differ: the consent ID, the
    personal-data digest, the record ID and the time, in that order (the canonical form sorts the keys)."""
    from consent.core import records as rec

    templates = []
    for method, analytics, marketing, country, subdivision, (key, law, model) in METHODS:
        value = rec.ConsentRecord(
            record_id="@RECORD@",
            site="quadient",
            consent_id="@CONSENT@",
            time=datetime(2026, 1, 1, tzinfo=UTC),
            version=version,
            language="en",
            choices={"necessary": True, "analytics": analytics, "marketing": marketing},
            method=rec.Method(method),
            region={"country": country, "subdivision": subdivision, "source": "header:cloudflare"},
            rule={"key": key, "law": law, "model": model},
            personal_digest="@PERSONAL@",
            signals=rec.Signals(sec_gpc=method == "gpc", gpc=method == "gpc"),
            layer=1,
            control=method,
        )
        text = value.canonical().decode().replace("%", "%%")
        for marker in ("@RECORD@", "@CONSENT@", "@PERSONAL@", "2026-01-01T00:00:00.000000Z"):
            text = text.replace(marker, "%s")
        templates.append(text)
    return templates


def fill(app, records: int) -> None:
    """``records`` decisions on the Quadient site, stored and logged as the service stores and logs them."""
    from sqlalchemy import insert

    from consent import logbook
    from consent.core import merkle
    from consent.core.records import canonical_json
    from consent.core.signing import checkpoint_body, sign_checkpoint
    from consent.extensions import db
    from consent.models import LogCheckpoint, LogEntry, LogHead, PersonalRecordData, Record

    with app.app_context():
        site, version = quadient_site(app)
        keyring = app.extensions["cmp.keys"]
        key = keyring.current
        templates = _templates(version)
        personal_templates = [
            canonical_json({"browser": b, "device": d, "ip": "@IP@", "os": o, "url": "@URL@"}).decode()
            for b, o, d in BROWSERS
        ]
        start = datetime.now(UTC) - timedelta(days=30)
        step = timedelta(days=29) / records  # spread over 29 days, oldest first
        sha256, extend = hashlib.sha256, merkle.extend
        frontier: merkle.Frontier = []
        seed = os.urandom(8).hex()
        origin = logbook.origin(keyring.name, site.key)
        written = 0
        began = time.perf_counter()
        while written < records:
            rows, personal_rows, entries = [], [], []
            for i in range(written, min(written + BATCH, records)):
                template = templates[i % len(templates)]
                moment = start + step * i
                when = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                record_id = f"{i:08x}-{seed[:4]}-4{seed[4:7]}-8{seed[7:10]}-{seed[10:16]}{i % 999983:06x}"[:36]
                consent_id = hashlib.blake2b(f"{seed}{i}".encode(), digest_size=16).hexdigest()[:22]
                salt = hashlib.blake2b(f"salt{seed}{i}".encode(), digest_size=16).hexdigest()
                personal = (
                    personal_templates[i % len(BROWSERS)]
                    .replace("@IP@", f"203.0.{i % 250}.0/24")
                    .replace("@URL@", f"https://www.quadient.com/en/page-{i % 97}")
                )
                digest = sha256(bytes.fromhex(salt) + personal.encode()).hexdigest()
                document = template % (consent_id, digest, record_id, when)
                leaf = sha256(b"\x00" + document.encode()).digest()
                pk = i + 1
                rows.append(
                    {
                        "id": pk,
                        "record_id": record_id,
                        "site_id": site.id,
                        "consent_id": consent_id,
                        "time": moment,
                        "document": document,
                        "receipt": "eyJhbGciOiJFZERTQSJ9.bench.receipt",
                    }
                )
                if i % 50 != 7:  # one record in 50 had its personal data erased
                    personal_rows.append({"record_pk": pk, "salt": salt, "data": personal})
                entries.append(
                    {
                        "site_id": site.id,
                        "seq": i,
                        "record_id": record_id,
                        "record_pk": pk,
                        "leaf_hash": leaf.hex(),
                        "record_time": moment,
                    }
                )
                extend(frontier, leaf)
            if written == 0:  # the templates give exactly the canonical form the service writes
                assert canonical_json(json.loads(rows[0]["document"])).decode() == rows[0]["document"]
            db.session.execute(insert(Record), rows)
            db.session.execute(insert(PersonalRecordData), personal_rows)
            db.session.execute(insert(LogEntry), entries)
            written += len(rows)
            if written % CHECKPOINT_EVERY == 0 or written == records:
                note = sign_checkpoint(
                    checkpoint_body(origin, written, merkle.frontier_root(frontier), datetime.now(UTC)), key
                )
                root = merkle.frontier_root(frontier).hex()
                db.session.add(
                    LogCheckpoint(site_id=site.id, tree_size=written, root_hash=root, key_id=key.public.kid, note=note)
                )
            db.session.commit()
            print(f"\r  written {written:,} records ({time.perf_counter() - began:.0f} s)", end="", file=sys.stderr)
        db.session.add(LogHead(site_id=site.id, size=records, frontier=[[s, n.hex()] for s, n in frontier]))
        db.session.commit()
        print(file=sys.stderr)


def time_at(app, size: int) -> datetime:
    """The time of the record at position ``size`` (the first one an export of ``size`` records leaves out)."""
    from sqlalchemy import select

    from consent.extensions import db
    from consent.models import LogEntry

    with app.app_context():
        moment = db.session.scalar(select(LogEntry.record_time).where(LogEntry.seq == size))
        db.session.remove()
    return moment


# --- measuring, each run in a child process ----------------------------------------------------------------------


def peak_mb() -> float:
    """This process's resident memory high-water mark (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_export(args: argparse.Namespace) -> int:
    """Run by the parent in a fresh process: one export through the API, read to the end."""
    app = in_process_app(args.url, Path(args.instance))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {args.key}"}
    url = f"/api/v1/sites/quadient/records?format={args.format}"
    if args.until:
        url += f"&until={args.until}"
    before = peak_mb()
    import resource

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    response = client.get(url, headers=headers, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    lines = size = 0
    for chunk in response.response:
        data = chunk if isinstance(chunk, bytes) else chunk.encode()
        lines += data.count(b"\n")
        size += len(data)
    response.close()
    elapsed = time.perf_counter() - began
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = used.ru_utime - cpu.ru_utime + used.ru_stime - cpu.ru_stime
    records = lines - (1 if args.format == "csv" else 0)
    result = {"records": records, "seconds": elapsed, "cpu_seconds": cpu_seconds, "bytes": size}
    print(json.dumps({**result, "peak_mb": peak_mb(), "base_mb": before}))
    return 0


def run_child(argv: list[str]) -> dict:
    result = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"a measured run failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def bundle_and_verify(app, url: str, instance: Path, rounds: int) -> dict:
    bundle = instance / "bundle.zip"
    env = {**os.environ, "CMP_DATABASE_URL": url, "CMP_SIGNING_KEY": str(instance / "signing-key.pem")}
    env.update({"CMP_LOG_NAME": "bench.local", "CMP_CHECKPOINT_SECONDS": "0", "CMP_ENV": "testing"})
    began = time.perf_counter()
    build = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "consent", "cmp", "audit-bundle", "quadient", "-o", str(bundle)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    built = time.perf_counter() - began
    if build.returncode != 0:
        raise SystemExit(f"audit-bundle failed:\n{build.stdout}{build.stderr}")
    import resource

    timings = []
    for _ in range(rounds):
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        check = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "verify_bundle.py"), str(bundle)], capture_output=True, text=True
        )
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_seconds = used.ru_utime - cpu.ru_utime + used.ru_stime - cpu.ru_stime
        timings.append((time.perf_counter() - began, cpu_seconds))
        if check.returncode != 0:
            raise SystemExit(f"the bundle did not verify:\n{check.stdout}{check.stderr}")
    wall, cpu_seconds = min(timings)
    return {
        "build_seconds": built,
        "verify_seconds": wall,
        "verify_cpu_seconds": cpu_seconds,
        "bundle_mb": bundle.stat().st_size / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--child", choices=["export"], help=argparse.SUPPRESS)
    for name in ("url", "instance", "key", "format", "until"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_export(args)

    sizes = sorted(set(args.sizes))
    with tempfile.TemporaryDirectory(prefix="cmp-bench-export-") as tmp:
        instance = Path(tmp)
        if args.database:
            import sqlalchemy as sa

            engine = sa.create_engine(args.database)
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
            url = f"{args.database}{'&' if '?' in args.database else '?'}options=-csearch_path%3D{SCHEMA}"
        else:
            url = f"sqlite:///{instance / 'bench.db'}"
        app = in_process_app(url, instance)
        print(f"filling {url.split('://')[0]} with {sizes[-1]:,} records", file=sys.stderr)
        fill(app, sizes[-1])
        key = app.test_cli_runner().invoke(args=["cmp", "create-key", "--site", "quadient", "--role", "auditor"])
        secret = key.output.strip()

        results = []
        for size in sizes:
            until = time_at(app, size) if size < sizes[-1] else None
            for fmt in ("csv", "ndjson"):
                runs = []
                for _ in range(args.rounds):
                    argv = ["--child", "export", "--url", url, "--instance", tmp, "--key", secret, "--format", fmt]
                    if until is not None:
                        argv += ["--until", until.strftime("%Y-%m-%dT%H:%M:%S.%fZ")]
                    run = run_child(argv)
                    runs.append(run)
                    rate = run["records"] / run["seconds"]
                    print(f"  {fmt} {size:,}: {rate:,.0f} records/s, peak {run['peak_mb']:.0f} MB", file=sys.stderr)
                best = max(runs, key=lambda r: r["records"] / r["seconds"])
                results.append((fmt, size, best, max(r["peak_mb"] for r in runs)))
        verified = bundle_and_verify(app, url, instance, args.rounds)

        if args.database:
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"export benchmark: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"database: {'PostgreSQL' if args.database else 'SQLite'}; load average at the end: {load:.1f}")
    print("  records/s is wall-clock; per CPU-s counts only the time the export's process ran (less sensitive to")
    print("  other work on the machine). Peak is the process's resident high-water mark; base, before the export.")
    print("  format  records     records/s  per CPU-s  peak MB  (base MB)  output MB  speed   memory")
    for fmt, _size, run, peak in results:
        rate = run["records"] / run["seconds"]
        per_cpu = run["records"] / run["cpu_seconds"]
        speed = "PASS" if rate >= EXPORT_TARGET else "FAIL"
        memory = "PASS" if peak < MEMORY_TARGET_MB else "FAIL"
        print(
            f"  {fmt:6}  {run['records']:>9,}  {rate:>10,.0f}  {per_cpu:>9,.0f}  {peak:>7.0f}  ({run['base_mb']:>6.0f})"
            f"  {run['bytes'] / 1e6:>9.0f}  {speed:6}  {memory}"
        )
    print(f"  targets: >= {EXPORT_TARGET:,} records/s, peak < {MEMORY_TARGET_MB} MB")
    rate = sizes[-1] / verified["verify_seconds"]
    per_cpu = sizes[-1] / verified["verify_cpu_seconds"]
    verdict = "PASS" if rate >= VERIFY_TARGET else "FAIL"
    print(
        f"  audit bundle of {sizes[-1]:,} records: built in {verified['build_seconds']:.1f} s, "
        f"{verified['bundle_mb']:.0f} MB"
    )
    print(
        f"  verify_bundle.py: {verified['verify_seconds']:.2f} s, {rate:,.0f} records/s ({per_cpu:,.0f} per CPU-s)"
        f"  {verdict} (target >= {VERIFY_TARGET:,})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
