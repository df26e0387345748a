"""Benchmark of the public banner endpoint against a bare Flask endpoint, both under gunicorn, loaded by wrk.

    python bench/banner.py                          # the full run (make bench)
    python bench/banner.py --duration 2 --rounds 1  # a quick smoke run

It builds a throw-away SQLite database with the example sites, serves ``consent:create_app()`` and the bare
baseline (bench/bare_app.py, same body bytes) with identical gunicorn options, checks both answer 200 with an
ETag and 304 to If-None-Match, then runs wrk (a separate process) against each case, interleaved over several
rounds, and prints the median requests/s and p99 latency of each case and the banner/bare ratio of requests/s.
The target is a ratio of at least 0.8 for a cached banner, on both 200 and 304. The exit code is 0 whether or not
the target is met: this reports, it does not test (it exits non-zero only when it could not measure).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import sys
from pathlib import Path

from harness import (
    BenchError,
    Server,
    WrkResult,
    ensure_wrk,
    gunicorn_options,
    machine_facts,
    median,
    prepare_database,
    request,
    run_bench,
    run_wrk,
    write_signing_key,
    wrk_version,
)

TARGET = 0.8
CASES = ("banner 200", "bare 200", "banner 304", "bare 304")


def wrk_command(wrk: str, args: argparse.Namespace, url: str, etag: str | None, seconds: int) -> list[str]:
    cmd = [wrk, f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if etag is not None:
        cmd += ["-H", f"If-None-Match: {etag}"]
    return [*cmd, url]


def verify(server: Server, path: str) -> tuple[str, bytes]:
    """Check the 200 (JSON with an ETag) and the 304 (to If-None-Match) of a URL; its ETag and body."""
    url = server.base + path
    status, headers, body = request(server.port, path)
    if status != 200:
        raise BenchError(f"{url} answered {status}, not 200:\n{body[:500]!r}\n{server.log_tail()}")
    if not headers.get("content-type", "").startswith("application/json"):
        raise BenchError(f"{url} answered Content-Type {headers.get('content-type')!r}, not application/json")
    try:
        json.loads(body)
    except ValueError:
        raise BenchError(f"{url} answered a body that is not JSON: {body[:200]!r}") from None
    etag = headers.get("etag")
    if not etag:
        raise BenchError(f"{url} answered without an ETag")
    status, _, not_modified = request(server.port, path, {"If-None-Match": etag})
    if status != 304 or not_modified:
        raise BenchError(f"{url} with If-None-Match: {etag} answered {status} ({len(not_modified)} bytes), not 304")
    return etag, body


# -------------------------------------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds (whole) of load per case and round [10]")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the four cases, interleaved [3]")
    parser.add_argument("--warmup", type=int, default=3, help="seconds (whole) of unmeasured load per case first [3]")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (-c) [16]")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (-t) [1]")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (-w) [2]")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (--threads) [4]")
    parser.add_argument(
        "--worker-connections",
        type=int,
        help="gunicorn --worker-connections; 0: gunicorn's default [connections / workers, rounded up]",
    )
    parser.add_argument(
        "--app",
        default="consent:create_app()",
        help="gunicorn app of the banner server, to measure a variant [consent:create_app()]",
    )
    parser.add_argument("--site", default="quadient", help="example site whose banner is loaded [quadient]")
    parser.add_argument("--query", default="region=FR&lang=en", help="banner query string [region=FR&lang=en]")
    parser.add_argument(
        "--same-headers",
        action="store_true",
        help="the bare endpoint also sends the banner's other headers (Vary, security headers, request ID, ...), "
        "to tell the cost of our code from that of the header bytes every answer of the service carries",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.rounds < 1 or args.warmup < 0:
        parser.error("--duration must be > 0, --rounds >= 1, --warmup >= 0")
    if args.worker_connections is None:
        # at least one connection more than threads, or gunicorn keeps no connection alive
        args.worker_connections = max(-(-args.connections // args.workers), args.threads + 1)

    return run_bench(run, args)


def run(args: argparse.Namespace, tmp: Path, servers: list[Server]) -> int:
    wrk = ensure_wrk()

    env = {k: v for k, v in os.environ.items() if not k.startswith("CMP_")}  # only the settings below
    env |= {
        "CMP_ENV": "production",
        "CMP_SECRET_KEY": secrets.token_urlsafe(48),
        "CMP_REGION_OVERRIDE": "true",
        "CMP_DATABASE_URL": f"sqlite:///{tmp / 'consent.db'}",
        "CMP_INSTANCE_PATH": str(tmp / "instance"),
        "CMP_SIGNING_KEY": str(tmp / "signing-key.pem"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    write_signing_key(tmp / "signing-key.pem")
    print("preparing a SQLite database with the example sites ...", file=sys.stderr, flush=True)
    prepare_database(env)

    options = gunicorn_options(args)
    banner_path = f"/api/v1/banner/{args.site}?{args.query}"
    banner = Server("banner", args.app, options, env, tmp / "banner.log")
    servers.append(banner)
    banner.start(banner_path)
    banner_etag, body = verify(banner, banner_path)

    (tmp / "body.json").write_bytes(body)
    bare_env = env | {"BENCH_BODY_FILE": str(tmp / "body.json")}
    if args.same_headers:
        _, sent, _ = request(banner.port, banner_path)
        own = {"etag", "cache-control", "content-type", "content-length", "date", "server", "connection"}
        bare_env["BENCH_EXTRA_HEADERS"] = json.dumps([(name, value) for name, value in sent.items() if name not in own])
    bare_path = f"/bare?{args.query}"
    bare = Server("bare", "bench.bare_app:create_app()", options, bare_env, tmp / "bare.log")
    servers.append(bare)
    bare.start(bare_path)
    bare_etag, bare_body = verify(bare, bare_path)
    if len(bare_body) != len(body):
        raise BenchError(f"the bare body is {len(bare_body)} bytes, the banner's {len(body)}")

    cases = {
        "banner 200": (banner.base + banner_path, None),
        "bare 200": (bare.base + bare_path, None),
        "banner 304": (banner.base + banner_path, banner_etag),
        "bare 304": (bare.base + bare_path, bare_etag),
    }
    total = len(cases) * (args.warmup + args.rounds * args.duration)
    print(f"measuring: about {total:.0f} s of load ...", file=sys.stderr, flush=True)
    if args.warmup:
        for url, etag in cases.values():
            run_wrk(
                wrk_command(wrk, args, url, etag, args.warmup), args.warmup
            )  # both workers fill their caches and connections

    results: dict[str, list[WrkResult]] = {name: [] for name in cases}
    for round_ in range(args.rounds):
        # Interleave banner and bare, and swap who goes first every other round, so drift hits both alike.
        pairs = [("banner 200", "bare 200"), ("banner 304", "bare 304")]
        order = [name for pair in pairs for name in (pair if round_ % 2 == 0 else pair[::-1])]
        for name in order:
            url, etag = cases[name]
            result = run_wrk(wrk_command(wrk, args, url, etag, args.duration), args.duration)
            results[name].append(result)
            print(
                f"  round {round_ + 1}/{args.rounds} {name:<11} {result.rps:9.1f} req/s  p99 {result.p99_ms:7.2f} ms"
                f"  errors {result.errors}",
                file=sys.stderr,
                flush=True,
            )

    # Any problem the servers logged (a 500's traceback, a worker timeout) is worth seeing next to the figures.
    for server in servers:
        if tail := server.log_tail(10).strip():
            print(f"\n{server.name} server log (last lines):\n{tail}", file=sys.stderr)

    report(
        args,
        results,
        body,
        banner_path,
        options,
        wrk_command(wrk, args, "<url>", None, args.duration),
        wrk_version(wrk),
        banner_etag,
    )
    return 0


def report(args, results, body, banner_path, options, wrk_cmd, wrk_version, banner_etag) -> None:
    facts = machine_facts()
    summary = {
        name: {
            "rps": median([r.rps for r in rs]),
            "p99_ms": median([r.p99_ms for r in rs]),
            "errors": sum(r.errors for r in rs),
            "requests": sum(r.requests for r in rs),
            "rounds_rps": [round(r.rps, 1) for r in rs],
        }
        for name, rs in results.items()
    }
    ratios = {
        status: summary[f"banner {status}"]["rps"] / summary[f"bare {status}"]["rps"]
        if summary[f"bare {status}"]["rps"]
        else 0.0
        for status in ("200", "304")
    }
    # banner and bare ran back to back in each round: their per-round ratio shows how steady the verdict is
    round_ratios = {
        status: [
            b.rps / r.rps if r.rps else 0.0
            for b, r in zip(results[f"banner {status}"], results[f"bare {status}"], strict=True)
        ]
        for status in ("200", "304")
    }

    out = []
    out.append("")
    out.append(f"Banner endpoint benchmark, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    out.append(
        f"  machine   {facts['cpus']} CPUs ({facts['cpus_usable']} usable), {facts['cpu_model']}, "
        f"Linux {facts['kernel']}; server and wrk share them"
    )
    out.append(
        f"  software  Python {facts['python']}, gunicorn {facts['gunicorn']}, Flask {facts['flask']}, "
        f"Werkzeug {facts['werkzeug']}, {wrk_version}"
    )
    out.append(f"  code      {facts['code']}")
    out.append(f"  gunicorn  {' '.join(options)} -b 127.0.0.1:<free port> (same for both apps)")
    out.append(
        f"  wrk       {' '.join(Path(wrk_cmd[0]).name if i == 0 else a for i, a in enumerate(wrk_cmd))}"
        f"  (+ -H 'If-None-Match: <etag>' for 304)"
    )
    out.append(
        f"  runs      {args.rounds} round(s) x {args.duration:g} s per case, interleaved, after "
        f"{args.warmup:g} s warm-up per case; figures are medians over the rounds"
    )
    out.append(
        f"  banner    GET {banner_path}  ({args.app}; CMP_ENV=production, SQLite, default CMP_SITE_CACHE_SECONDS)"
    )
    same = ", and the banner's other headers" if args.same_headers else ""
    out.append(
        f"  bare      GET /bare  (bench/bare_app.py: the same {len(body)}-byte body, precomputed, ETag, 304{same})"
    )
    out.append(f"  body      {len(body)} bytes JSON; banner ETag {banner_etag}")
    out.append("")
    header = f"  {'case':<12}{'requests/s':>12}{'p99 latency':>14}{'errors':>9}   requests/s per round"
    out.append(header)
    out.append("  " + "-" * (len(header) - 2))
    for name in CASES:
        s = summary[name]
        rounds = ", ".join(f"{v:.0f}" for v in s["rounds_rps"])
        out.append(f"  {name:<12}{s['rps']:>12.1f}{s['p99_ms']:>11.2f} ms{s['errors']:>9}   {rounds}")
    out.append("")
    verdicts = {}
    for status, ratio in ratios.items():
        verdicts[status] = ratio >= TARGET
        p99_ratio = summary[f"banner {status}"]["p99_ms"] / summary[f"bare {status}"]["p99_ms"]
        per_round = ", ".join(f"{r:.2f}" for r in round_ratios[status])
        out.append(
            f"  ratio banner/bare {status}: {ratio:.2f} of the requests/s  "
            f"{'PASS' if verdicts[status] else 'FAIL'} (target >= {TARGET:.2f})  "
            f"[per round: {per_round}]; p99 {p99_ratio:.2f}x the bare p99"
        )
    errors = sum(s["errors"] for s in summary.values())
    if errors:
        out.append(f"  WARNING: {errors} errors (non-2xx/3xx responses or socket errors): the figures are suspect")
    out.append("")
    if all(verdicts.values()):
        out.append(
            f"RESULT: target met: banner/bare >= {TARGET} for 200 ({ratios['200']:.2f}) and 304 ({ratios['304']:.2f})"
        )
    else:
        missed = ", ".join(f"{s} ({ratios[s]:.2f})" for s, ok in verdicts.items() if not ok)
        out.append(f"RESULT: target MISSED for {missed}: banner/bare must be >= {TARGET}")
    print("\n".join(out), flush=True)

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": facts,
            "gunicorn_options": options,
            "wrk_command": wrk_cmd,
            "duration_s": args.duration,
            "rounds": args.rounds,
            "warmup_s": args.warmup,
            "banner_path": banner_path,
            "body_bytes": len(body),
            "cases": summary,
            "ratios": ratios,
            "ratios_per_round": round_ratios,
            "target": TARGET,
            "target_met": verdicts,
        }
        args.json.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
