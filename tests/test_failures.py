"""When parts fail: the database or Redis goes away (a proxy in front of the real servers cuts them off), a worker
is killed in the middle of writing. Nothing a visitor submitted is lost, nothing is recorded twice, and the log
still verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import sqlalchemy as sa

from consent.extensions import db

from .conftest import ROOT, load_examples, make_app
from .tcp_proxy import TcpProxy
from .test_decisions import decide

QUADIENT = ROOT / "examples" / "quadient.yaml"


@pytest.fixture
def database_proxy(database_url):
    """The test's PostgreSQL database, reached through a proxy that can cut it off."""
    url = sa.engine.make_url(database_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy, url.set(port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.postgres_only
def test_with_the_database_gone_banners_stay_and_decisions_wait_in_the_browser_then_land_once(database_proxy):
    proxy, url = database_proxy
    app = make_app(url, site_cache_seconds=0)  # re-check the live version on every request
    load_examples(app, [QUADIENT])
    client = app.test_client()
    assert client.get("/api/v1/banner/quadient?region=FR").status_code == 200

    proxy.cut()
    banner = client.get("/api/v1/banner/quadient?region=FR")
    assert banner.status_code == 200 and "X-Served-Stale" in banner.headers  # from memory, and says so
    failed, seconds = timed(lambda: decide(client, decision_key="q" * 30))
    assert failed.status_code == 503 and failed.headers["Retry-After"]
    assert seconds < 1, f"the first decision waited {seconds:.1f} s for the database"
    again, seconds = timed(lambda: decide(client, decision_key="q" * 30))  # the browser's queue tries again
    assert again.status_code == 503 and seconds < 1  # it failed a moment ago: answered at once
    assert client.get("/readyz").status_code == 503

    proxy.restore()
    time.sleep(2.1)  # the database gate's cool-down
    landed = decide(client, decision_key="q" * 30)
    assert landed.status_code == 201, landed.json
    assert decide(client, decision_key="q" * 30).json["replayed"] is True
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM consent_records")) == 1
    assert client.get("/readyz").status_code == 200


@pytest.fixture
def redis_proxy():
    proxy = TcpProxy(("127.0.0.1", 6379))
    yield proxy, f"redis://127.0.0.1:{proxy.port}/0"
    proxy.close()


def test_with_redis_gone_the_rate_limit_counts_per_process_and_nothing_else_breaks(database_url, redis_proxy):
    from .test_decisions import a_fresh_address

    proxy, redis_url = redis_proxy
    app = make_app(database_url, rate_limit="3 per minute", redis_url=redis_url)
    load_examples(app, [QUADIENT])
    client = app.test_client()
    address = a_fresh_address()
    assert decide(client, address=address).status_code == 201  # counted in Redis
    proxy.cut()
    statuses = [decide(client, address=address).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]  # a fresh count in this process; refusals still work
    assert client.get("/api/v1/banner/quadient?region=FR").status_code == 200


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from tests.conftest import make_app
    from tests.test_decisions import decide
    app = make_app({url!r}, rate_limit="1000000 per minute")
    client = app.test_client()
    runner = app.test_cli_runner()
    for i in range(100000):
        decide(client)
        if i == 0:
            print("writing", flush=True)
        if i % 5 == 0:
            runner.invoke(args=["cmp", "checkpoint"])
    """
)


def test_a_worker_killed_in_the_middle_of_writing_leaves_the_log_verifiable(app, database_url, quadient):
    """kill -9 at random moments of recording and sequencing: every transaction is all or nothing."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.05, 0.2, 0.45, 0.8):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER.format(root=str(ROOT), url=database_url)],
            stdout=subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
        assert writer.stdout.readline().strip() == b"writing"  # its first decision is in; more are under way
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    runner = app.test_cli_runner()
    runner.invoke(args=["cmp", "checkpoint"])
    result = runner.invoke(args=["cmp", "verify", "quadient"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        stored = db.session.scalar(sa.text("SELECT count(*) FROM consent_records"))
    assert stored > 0 and f"{stored} log positions, {stored} records re-hashed" in result.output


def test_an_oversized_decision_is_refused_before_it_is_read(client, quadient):
    response = client.post(
        "/api/v1/decisions/quadient",
        data=b"{" + b" " * 2_000_000 + b"}",
        headers={"Content-Type": "application/json", "Origin": "https://www.quadient.com"},
    )
    assert response.status_code == 413
