"""Load test of the production setup: a realistic mix of 95% banner fetches and 5% decisions, from a separate
process (wrk), against the service under gunicorn (deploy/gunicorn.conf.py) on PostgreSQL with Redis, with 1, 2
and 4 workers.

    python bench/load.py                          # 1, 2 and 4 workers, 20 s each
    python bench/load.py --duration 5 --workers 2 # a quick run

Banner fetches vary over regions (EEA, California, Texas, Japan) and languages the way a CDN would see them
missing its cache; decisions are first decisions on the Quadient site from a Firefox on quadient.com. The rate
limit is raised (one load generator is one address). Prints requests/s, the p99 latency of the mix, the errors,
and the decisions recorded, then checks that the log verifies.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from harness import (
    BenchError,
    Server,
    ensure_wrk,
    flask_command,
    machine_facts,
    postgres_schema,
    prepare_database,
    request,
    run_bench,
    run_wrk,
    service_env,
    wrk_version,
)

PG_SCHEMA = "cmp_bench_load"
SITES = ("quadient", "optipost", "unifiedpost", "sodepac", "anytime-postage")
REGIONS = ("FR", "DE", "US-CA", "US-TX", "JP", "BE")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def lua_mix(path: Path, decision: bytes, share: float) -> Path:
    """wrk's requests: mostly banners of every example site and region, a ``share`` of posted decisions."""
    banners = [f"/api/v1/banner/{site}?region={region}" for site in SITES for region in REGIONS]
    lines = [
        f"local banners = {{{', '.join(json.dumps(b) for b in banners)}}}",
        f"local decision = {json.dumps(decision.decode())}",
        "local post_headers = {",
        '  ["Content-Type"] = "application/json",',
        f'  ["User-Agent"] = {json.dumps(FIREFOX)},',
        '  ["Origin"] = "https://www.quadient.com",',
        "}",
        f'local get_headers = {{["User-Agent"] = {json.dumps(FIREFOX)}, ["Accept-Language"] = "fr,en;q=0.8"}}',
        "function request()",
        f"  if math.random() < {share} then",
        '    return wrk.format("POST", "/api/v1/decisions/quadient", post_headers, decision)',
        "  end",
        '  return wrk.format("GET", banners[math.random(#banners)], get_headers)',
        "end",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per worker count [20]")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker counts [1 2 4]")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker [4]")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections [32]")
    parser.add_argument("--share", type=float, default=0.05, help="share of decisions in the mix [0.05]")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)
    return run_bench(run, args)


def run(args, tmp: Path, servers: list[Server]) -> int:
    wrk = ensure_wrk()
    with postgres_schema(args.postgres, PG_SCHEMA) as url:
        env = service_env(
            tmp,
            CMP_REDIS_URL=args.redis,
            CMP_DATABASE_URL=url,
            CMP_ACCESS_LOG="/dev/null",  # the figures are the service's, not the log disk's
        )
        print("migrating PostgreSQL and loading the example sites ...", file=sys.stderr, flush=True)
        prepare_database(env)
        rows = [(workers, load(args, wrk, tmp, servers, env, workers)) for workers in args.workers]
        flask_command(env, "cmp", "checkpoint")
        verified = flask_command(env, "cmp", "verify", "quadient")
    report(args, wrk, rows, verified)
    return 0


def load(args, wrk: str, tmp: Path, servers: list[Server], env: dict[str, str], workers: int):
    server = Server(
        f"service-{workers}w",
        "consent:create_app()",
        ["-c", "deploy/gunicorn.conf.py"],
        env
        | {
            "CMP_WORKERS": str(workers),
            "CMP_THREADS": str(args.threads),
            # wrk opens its connections at once and keeps them: without a cap, one worker may take them all
            "CMP_WORKER_CONNECTIONS": str(max(-(-args.connections // workers), args.threads + 1)),
        },
        tmp / f"service-{workers}.log",
    )
    servers.append(server)
    server.start("/readyz")
    status, _, banner = request(server.port, "/api/v1/banner/quadient?region=FR")
    if status != 200:
        raise BenchError(f"the banner endpoint answered {status}:\n{server.log_tail()}")
    decision = json.dumps(
        {
            "version": json.loads(banner)["version"],
            "language": "en",
            "choices": {"necessary": True, "analytics": True, "marketing": False},
            "method": "custom",
            "layer": 2,
            "control": "save",
            "page_url": "https://www.quadient.com/en/",
            "region": "FR",
        }
    ).encode()
    script = lua_mix(tmp / "mix.lua", decision, args.share)
    command = [wrk, "-t2", f"-c{args.connections}", "--latency", "--timeout", "10s", "-s", str(script)]
    run_wrk([*command, "-d3s", server.base], 3)  # every worker warms its caches
    result = run_wrk([*command, f"-d{args.duration}s", server.base], args.duration)
    server.stop()
    print(f"  {workers} worker(s): {result.rps:8.1f} req/s  p99 {result.p99_ms:7.2f} ms  errors {result.errors}",
          file=sys.stderr, flush=True)  # fmt: skip
    return result


def report(args, wrk: str, rows, verified: str) -> None:
    facts = machine_facts()
    recorded = re.search(r"(\d+) log positions", verified)
    out = [
        "",
        "Load test: the production gunicorn setup on PostgreSQL and Redis",
        f"  machine   {facts['cpus']} CPUs, {facts['cpu_model']}; wrk and the service share them",
        f"  software  Python {facts['python']}, gunicorn {facts['gunicorn']}, {wrk_version(wrk)}",
        f"  code      {facts['code']}",
        f"  mix       {100 - args.share * 100:.0f}% GET banner (5 sites x 6 regions), {args.share * 100:.0f}% POST "
        f"decision; wrk -t2 -c{args.connections} -d{args.duration}s; gthread, {args.threads} threads per worker",
        "",
        f"  {'workers':>7}{'requests/s':>12}{'x 1 worker':>12}{'p99':>11}{'errors':>8}",
    ]
    base = rows[0][1].rps if rows else 0
    for workers, result in rows:
        out.append(
            f"  {workers:>7}{result.rps:>12.1f}{result.rps / base if base else 0:>12.2f}"
            f"{result.p99_ms:>8.1f} ms{result.errors:>8}"
        )
    out.append("")
    out.append(
        f"  decisions in the Quadient log afterwards: {recorded.group(1) if recorded else '?'}; "
        f"verify: {'OK' if 'OK:' in verified else 'FAILED'}"
    )
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
