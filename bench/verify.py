"""Benchmark of ``flask cmp verify``: how many records per second it checks, on one million records.

    python bench/verify.py                        # one million records on SQLite
    python bench/verify.py --records 200000       # a quicker run
    python bench/verify.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test

It fills a throw-away database with the Quadient example site and ``--records`` consent records of realistic
shape (a fresh visitor each, varied choices, methods, regions and personal data), sequences them into the site's
log with checkpoints every 50,000 positions as the service would, then times ``verify`` over the whole log: with
one process (``--jobs 1``) and with one worker per CPU. Each figure is the best of ``--rounds`` runs. The target
(issue 3) is at least 200,000 records/s. On PostgreSQL it uses (and drops) a schema of its own, ``cmp_bench``.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import in_process_app, quadient_site  # noqa: E402

TARGET = 200_000
BATCH = 10_000
CHECKPOINT_EVERY = 50_000


def fill(app, records: int) -> None:
    """``records`` decisions on the Quadient site, written as the recording code writes them, then sequenced."""
    from sqlalchemy import insert

    from consent import logbook, partitions
    from consent.core import merkle
    from consent.core import records as rec
    from consent.extensions import db
    from consent.models import ConsentSubject, PendingRecord, PersonalRecordData, Record

    with app.app_context():
        site, version = quadient_site(app)
        keyring = app.extensions["cmp.keys"]
        key = keyring.current
        receipt = "eyJhbGciOiJFZERTQSJ9.bench.receipt"  # the receipt is not what verify checks
        methods = [("accept_all", True, True), ("reject_all", False, False), ("custom", True, False)]
        regions = [("FR", None, "header:cloudflare"), ("DE", None, "ip:iptocc"), ("US", "US-CA", "header:cloudflare")]
        start = datetime.now(UTC) - timedelta(seconds=2 * records)
        with db.engine.begin() as connection:
            partitions.ensure(connection, now=start)  # PostgreSQL: the months of the records, back in time
        written = 0
        began = time.perf_counter()
        while written < records:
            rows, personal_rows, pending, subjects = [], [], [], []
            for i in range(written, min(written + BATCH, records)):
                method, analytics, marketing = methods[i % 3]
                country, subdivision, source = regions[i % 3]
                personal = rec.PersonalData(
                    salt=secrets.token_hex(16),
                    ip=f"203.0.{i % 250}.0/24",
                    browser="Firefox 140",
                    os="Linux",
                    device="desktop",
                    page_url=f"https://www.quadient.com/en/page-{i % 97}",
                )
                consent_id = secrets.token_urlsafe(16)
                value = rec.ConsentRecord(
                    record_id=str(uuid.uuid4()),
                    site="quadient",
                    consent_id=consent_id,
                    time=start + timedelta(seconds=i * 2),
                    version=version,
                    language="en",
                    choices={"necessary": True, "analytics": analytics, "marketing": marketing},
                    method=rec.Method(method),
                    region={"country": country, "subdivision": subdivision, "source": source},
                    rule={"key": "opt-in-regions", "law": "GDPR and ePrivacy Directive", "model": "opt_in"},
                    personal_digest=personal.digest(),
                    layer=1,
                    control=method,
                )
                canonical = value.canonical()
                pk = partitions.key_bound(value.time) + i % (1 << partitions.KEY_SHIFT)  # as record_key(), unique
                rows.append(
                    {
                        "id": pk,
                        "record_id": value.record_id,
                        "site_id": site.id,
                        "consent_id": consent_id,
                        "time": value.time,
                        "document": canonical.decode(),
                        "receipt": receipt,
                    }
                )
                personal_rows.append({"record_pk": pk, "salt": personal.salt, "data": personal.canonical().decode()})
                pending.append({"record_pk": pk, "site_id": site.id, "leaf_hash": merkle.leaf_hash(canonical).hex()})
                subjects.append({"consent_id": consent_id, "site_id": site.id, "secret_hash": "0" * 64})
            db.session.execute(insert(ConsentSubject), subjects)
            db.session.execute(insert(Record), rows)
            db.session.execute(insert(PersonalRecordData), personal_rows)
            db.session.execute(insert(PendingRecord), pending)
            db.session.commit()
            written += len(rows)
            if written % CHECKPOINT_EVERY == 0 or written == records:
                logbook.sequence(site, key, keyring.name)
            print(f"\r  written {written:,} records ({time.perf_counter() - began:.0f} s)", end="", file=sys.stderr)
        print(file=sys.stderr)


def time_verify(app, jobs: int) -> tuple[float, str]:
    from sqlalchemy import select

    from consent import logbook
    from consent.extensions import db
    from consent.models import Site

    with app.app_context():
        site = db.session.scalar(select(Site).where(Site.key == "quadient"))
        keyring = app.extensions["cmp.keys"]
        keys = keyring.public_keys()
        began = time.perf_counter()
        result = logbook.verify_site(site, keys, keyring.name, jobs=jobs)
        elapsed = time.perf_counter() - began
        db.session.remove()
    report = result.report
    if not result.ok:
        raise SystemExit(f"the log did not verify: {report.breaks[:3]}")
    return elapsed, f"{report.contents.records_checked:,} records, {len(report.tree.checkpoints)} checkpoints"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cmp-bench-verify-") as tmp:
        instance = Path(tmp)
        if args.database:
            import sqlalchemy as sa

            engine = sa.create_engine(args.database)
            with engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA IF EXISTS cmp_bench CASCADE"))
                connection.execute(sa.text("CREATE SCHEMA cmp_bench"))
            url = f"{args.database}{'&' if '?' in args.database else '?'}options=-csearch_path%3Dcmp_bench"
        else:
            url = f"sqlite:///{instance / 'bench.db'}"
        app = in_process_app(url, instance)
        print(f"filling {url.split('?')[0].split('://')[0]} with {args.records:,} records", file=sys.stderr)
        fill(app, args.records)

        cpus = os.cpu_count() or 1
        results = {}
        for jobs in sorted({1, cpus}):
            timings = []
            for _ in range(args.rounds):
                elapsed, what = time_verify(app, jobs)
                timings.append(elapsed)
                print(f"  jobs={jobs}: {elapsed:.2f} s", file=sys.stderr)
            results[jobs] = (min(timings), what)

        if args.database:
            with engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA IF EXISTS cmp_bench CASCADE"))

    machine = platform.processor() or platform.machine()
    print(f"verify benchmark: {machine}, {cpus} CPUs, Python {platform.python_version()}")
    print(f"database: {'PostgreSQL' if args.database else 'SQLite'}; {args.records:,} records")
    for jobs, (elapsed, what) in results.items():
        rate = args.records / elapsed
        verdict = "PASS" if rate >= TARGET else "FAIL"
        print(f"  jobs={jobs}: {elapsed:6.2f} s  {rate:10,.0f} records/s  {verdict} (target >= {TARGET:,})  [{what}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
