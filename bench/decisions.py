"""Benchmark of recording decisions: POST /api/v1/decisions/<site> under gunicorn with several workers, on SQLite
and on PostgreSQL, each next to a bare Flask POST endpoint served the same way in the same run.

    python bench/decisions.py                          # SQLite, then PostgreSQL at --postgres
    python bench/decisions.py --duration 3 --rounds 1  # a quick smoke run
    python bench/decisions.py --no-postgres            # SQLite only (a machine without PostgreSQL)

Each database gets the example sites (migrated and loaded from scratch), the service under gunicorn with
production settings (its background sequencer signing checkpoints every 10 s, as in production) and the rate limit
out of the way. wrk, from a separate process, posts a visitor's first decision on the Quadient site (a new consent
ID each time: the most work a decision can cost) as a Firefox on quadient.com would. The bare endpoint parses the
same JSON body and answers 201 with a body of the same size. After the load the log is sequenced and verified,
and the number of records must equal the number of 201 answers: nothing lost, nothing extra.

Target (issue 3): decisions at least 0.5 of the bare endpoint's requests/s on PostgreSQL. The exit code is 0
whether or not it is met (2 when it could not measure).
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
    WrkResult,
    ensure_wrk,
    flask_command,
    gunicorn_options,
    machine_facts,
    median,
    postgres_schema,
    prepare_database,
    request,
    run_bench,
    run_wrk,
    service_env,
    wrk_version,
)

TARGET = 0.5
SITE = "quadient"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
HEADERS = {"Content-Type": "application/json", "User-Agent": FIREFOX, "Origin": "https://www.quadient.com"}
PG_SCHEMA = "cmp_bench_decisions"


def lua_script(path: Path, body: bytes) -> Path:
    """wrk's request: a POST with the decision as its body."""
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in HEADERS.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk_command(wrk: str, args, script: Path, url: str, seconds: int) -> list[str]:
    return [wrk, f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
            "-s", str(script), url]  # fmt: skip


def decision_body(server: Server) -> bytes:
    status, _, banner = request(server.port, f"/api/v1/banner/{SITE}?region=FR&lang=en")
    if status != 200:
        raise BenchError(f"the banner endpoint answered {status}:\n{server.log_tail()}")
    version = json.loads(banner)["version"]
    return json.dumps(
        {
            "version": version,
            "language": "en",
            "choices": {"necessary": True, "analytics": False, "marketing": False},
            "method": "reject_all",
            "layer": 1,
            "control": "reject_all",
            "page_url": "https://www.quadient.com/en/products",
            "region": "FR",
        }
    ).encode()


def check_post(server: Server, path: str, body: bytes, expected: int) -> None:
    status, _, answer = request(server.port, path, HEADERS, method="POST", body=body)
    if status != expected:
        raise BenchError(f"POST {path} answered {status}, not {expected}: {answer[:300]!r}\n{server.log_tail()}")


def logged_records(env: dict[str, str]) -> tuple[int, bool, str]:
    """Sequence what is queued, verify the site's log: its records and whether it verified."""
    flask_command(env, "cmp", "checkpoint", SITE)
    output = flask_command(env, "cmp", "verify", SITE)
    found = re.search(r"(\d+) log positions, (\d+) records re-hashed", output)
    if not found:
        raise BenchError(f"could not read verify's output:\n{output}")
    return int(found.group(2)), "OK:" in output, output


def measure(args, wrk: str, tmp: Path, servers: list[Server], bare: Server, name: str, url: str, env) -> dict:
    env = env | {"CMP_DATABASE_URL": url}
    print(f"{name}: migrating and loading the example sites ...", file=sys.stderr, flush=True)
    prepare_database(env)
    server = Server(f"decisions-{name}", "consent:create_app()", gunicorn_options(args), env, tmp / f"{name}.log")
    servers.append(server)
    server.start(f"/api/v1/banner/{SITE}?region=FR")
    body = decision_body(server)
    check_post(server, f"/api/v1/decisions/{SITE}", body, 201)
    check_post(bare, "/bare", body, 201)
    script = lua_script(tmp / "decision.lua", body)
    cases = {"decisions": f"{server.base}/api/v1/decisions/{SITE}", "bare": f"{bare.base}/bare"}

    recorded = 1  # the check above
    runs = 0  # of wrk against the decisions: each may leave up to --connections requests answered after it stopped
    if args.warmup:
        for case, case_url in cases.items():
            warm = run_wrk(wrk_command(wrk, args, script, case_url, args.warmup), args.warmup)
            if case == "decisions":
                recorded, runs = recorded + warm.requests - warm.errors, runs + 1
    results: dict[str, list[WrkResult]] = {case: [] for case in cases}
    for round_ in range(args.rounds):
        order = list(cases) if round_ % 2 == 0 else list(cases)[::-1]  # drift hits both alike
        for case in order:
            result = run_wrk(wrk_command(wrk, args, script, cases[case], args.duration), args.duration)
            results[case].append(result)
            if case == "decisions":
                recorded, runs = recorded + result.requests - result.errors, runs + 1
            print(f"  {name} round {round_ + 1}/{args.rounds} {case:<10} {result.rps:8.1f} req/s  "
                  f"p99 {result.p99_ms:7.2f} ms  errors {result.errors}", file=sys.stderr, flush=True)  # fmt: skip
    server.stop()
    if tail := server.log_tail(5).strip():
        print(f"{server.name} log (last lines):\n{tail}", file=sys.stderr)
    print(f"{name}: sequencing and verifying the log ...", file=sys.stderr, flush=True)
    in_log, verified, _ = logged_records(env)
    return {
        "results": results,
        "answered_201": recorded,
        "in_flight": runs * args.connections,
        "in_log": in_log,
        "verified": verified,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per case and round [10]")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, decisions and bare interleaved [3]")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load per case first [2]")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections [16]")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads [1]")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers [4]")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker [4]")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL URL; the run uses and drops a schema of its own")  # fmt: skip
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    args = parser.parse_args(argv)
    args.worker_connections = max(-(-args.connections // args.workers), args.threads + 1)
    return run_bench(run, args)


def run(args, tmp: Path, servers: list[Server]) -> int:
    wrk = ensure_wrk()
    env = service_env(tmp)
    bare = Server("bare", "bench.bare_app:create_app()", gunicorn_options(args), env, tmp / "bare.log")
    servers.append(bare)
    bare.start("/bare")
    measured = {"SQLite": measure(args, wrk, tmp, servers, bare, "SQLite", f"sqlite:///{tmp / 'consent.db'}", env)}
    if not args.no_postgres:
        with postgres_schema(args.postgres, PG_SCHEMA) as url:
            measured["PostgreSQL"] = measure(args, wrk, tmp, servers, bare, "PostgreSQL", url, env)
    report(args, measured, wrk_version(wrk))
    return 0


def report(args, measured: dict, wrk_name: str) -> None:
    facts = machine_facts()
    out = [
        "",
        "Decision recording benchmark",
        f"  machine   {facts['cpus']} CPUs, {facts['cpu_model']}, Linux {facts['kernel']}; server and wrk share them",
        f"  software  Python {facts['python']}, gunicorn {facts['gunicorn']}, Flask {facts['flask']}, {wrk_name}",
        f"  code      {facts['code']}",
        f"  gunicorn  -k gthread -w {args.workers} --threads {args.threads} (same for both apps)",
        f"  wrk       -t{args.wrk_threads} -c{args.connections} -d{args.duration}s, {args.rounds} round(s), "
        f"interleaved; medians over rounds",
        f"  request   POST /api/v1/decisions/{SITE}: a first decision (new consent ID, receipt signed, 4 rows)",
        "",
        f"  {'database':<12}{'case':<11}{'requests/s':>11}{'p99':>11}{'errors':>8}   per round",
    ]
    for name, data in measured.items():
        for case, results in data["results"].items():
            rounds = ", ".join(f"{r.rps:.0f}" for r in results)
            out.append(
                f"  {name:<12}{case:<11}{median([r.rps for r in results]):>11.1f}"
                f"{median([r.p99_ms for r in results]):>8.1f} ms{sum(r.errors for r in results):>8}   {rounds}"
            )
        ratio = median([r.rps for r in data["results"]["decisions"]]) / median([r.rps for r in data["results"]["bare"]])
        target = f"target >= {TARGET}: {'PASS' if ratio >= TARGET else 'FAIL'}" if name == "PostgreSQL" else "no target"
        out.append(f"  {name:<12}ratio decisions/bare {ratio:.2f} ({target})")
        # wrk stops reading when its time is up: requests then in flight are recorded but not counted as answered
        extra = data["in_log"] - data["answered_201"]
        accounted = 0 <= extra <= data["in_flight"]
        out.append(
            f"  {name:<12}{data['answered_201']} decisions answered 201 (+{extra} in flight when wrk stopped), "
            f"{data['in_log']} records in the log, verify {'OK' if data['verified'] else 'FAILED'}"
            + ("" if accounted else "  MISMATCH: records lost or duplicated")
        )
        out.append("")
    print("\n".join(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
