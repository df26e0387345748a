"""``flask --app consent cmp ...``: load and export site configurations, check them, issue keys, serve a demo.

Configuration files are the same document the owner API's ``/config`` endpoint speaks, in YAML, so owners can
keep their configuration in version control: ``load`` is idempotent (an unchanged file publishes nothing) and
``export`` writes back exactly what ``load`` reads.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, timedelta
from pathlib import Path

import click
import yaml
from flask import current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.serving import run_simple

from . import keys, logbook, partitions, publishing
from .core import compliance
from .core.notices import DEFAULT_DAYS, ChangeNotice
from .core.signing import SigningKey
from .extensions import db
from .models import ApiKey, DomainTaken, Site, utcnow
from .schemas.site import SiteConfigSchema, build, document
from .web.demo import published_demo_sites


@click.group(help="Consent management platform commands.")
def cmp() -> None:
    pass


def read_config(path: Path):
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise click.ClickException(f"{path}: {error}") from None
    try:
        return build(SiteConfigSchema().load(data if isinstance(data, dict) else {}))
    except ValidationError as error:
        lines = "\n".join(_flatten(error.messages))
        raise click.ClickException(f"{path} is not a valid site configuration:\n{lines}") from None


def _flatten(messages, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        return [line for key, value in messages.items() for line in _flatten(value, f"{prefix}{key}.")]
    return [f"  {prefix.rstrip('.')}: {message}" for message in messages]


def _print_warnings(warnings) -> None:
    for w in warnings:
        click.echo(f"  warning [{w.code}] rule {w.rule!r}, {', '.join(w.regions)} ({w.law}): {w.message}")


def _summarize_warnings(warnings, path: Path) -> None:
    regions_by_code: dict[str, list[str]] = {}
    for w in warnings:
        regions_by_code.setdefault(w.code, []).extend(r for r in w.regions if r not in regions_by_code.get(w.code, []))
    for code, where in regions_by_code.items():
        click.echo(f"  compliance warning {code}: {', '.join(where)}")
    if warnings:
        click.echo(f"  (details: flask --app consent cmp check {path})")


@cmp.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--publish/--no-publish", default=True, show_default=True, help="Publish after loading.")
@click.option(
    "--notice",
    "notices",
    multiple=True,
    metavar="LANG=TEXT",
    help="Publish as a material change: the notice returning visitors see in LANG (repeat per language).",
)
@click.option("--notice-days", type=click.IntRange(1, 365), default=DEFAULT_DAYS, show_default=True)
@with_appcontext
def load(files: tuple[Path, ...], publish: bool, notices: tuple[str, ...], notice_days: int) -> None:
    """Make each file's site draft exactly the file, and publish it (nothing changes if it is already live)."""
    notice = None
    if notices:
        message = dict(item.split("=", 1) for item in notices if "=" in item)
        if len(message) != len(notices):
            raise click.BadParameter("write each notice as LANG=TEXT", param_hint="--notice")
        notice = ChangeNotice(message, notice_days)
    for path in files:
        config = read_config(path)
        site = db.session.scalar(select(Site).where(Site.key == config.site.key))
        if site is None:
            site = Site()
            db.session.add(site)
        try:
            site.replace_draft(config)
        except DomainTaken as taken:
            raise click.ClickException(f"{path}: {taken}") from None
        db.session.flush()
        message = "draft saved"
        if publish:
            if notice and site.default_language not in notice.message:
                raise click.ClickException(f"{path}: give the notice in the default language {site.default_language!r}")
            result = publishing.publish(site, note=f"loaded from {path.name}", notice=notice)
            version = result.version
            state = "published" if result.went_live else "unchanged"
            message = f"{state}: version {version.number} ({version.hash[:12]})"
        db.session.commit()
        current_app.extensions["cmp.live"].forget(site.key)
        click.echo(f"{config.site.key}: {message}")
        _summarize_warnings(compliance.check(config), path)


@cmp.command("export")
@click.argument("site_key")
@click.option("--version", "version_hash", help="A published version's hash instead of the draft.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout)."
)
@with_appcontext
def export(site_key: str, version_hash: str | None, output: Path | None) -> None:
    """Write a site's draft (or a published version) in the configuration file format."""
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise click.ClickException(f"no site {site_key!r}")
    if version_hash:
        version = publishing.find_version(site, version_hash)
        if version is None:
            raise click.ClickException(f"site {site_key!r} has no version {version_hash!r}")
        config = publishing.config_of(version.document)
    else:
        config = site.draft()
    text = yaml.safe_dump(document(config), sort_keys=False, allow_unicode=True, width=110)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@cmp.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit with status 2 when there are compliance warnings.")
def check(files: tuple[Path, ...], strict: bool) -> None:
    """Validate configuration files and list where they fall short of the law of a region they serve."""
    warned = False
    for path in files:
        warnings = compliance.check(read_config(path))
        click.echo(f"{path}: {len(warnings)} compliance warning{'s' if len(warnings) != 1 else ''}")
        _print_warnings(warnings)
        warned = warned or bool(warnings)
    if strict and warned:
        sys.exit(2)


@cmp.command("create-key")
@click.option("--site", "site_key", help="The site the key acts on (omit with --role admin).")
@click.option("--role", type=click.Choice([r.value for r in keys.Role]), default="owner", show_default=True)
@click.option("--name", default="created from the command line", show_default=True)
@with_appcontext
def create_key(site_key: str | None, role: str, name: str) -> None:
    """Issue an API key and print its secret (shown once, stored only as a digest)."""
    site = None
    if site_key:
        site = db.session.scalar(select(Site).where(Site.key == site_key))
        if site is None:
            raise click.ClickException(f"no site {site_key!r}")
    try:
        _, secret = keys.issue(keys.Role(role), name, site)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(secret)


@cmp.command("list-keys")
@click.option("--site", "site_key", help="Only this site's keys (default: every key, the operator's included).")
@with_appcontext
def list_keys(site_key: str | None) -> None:
    """List API keys by prefix, role and state (their secrets are never stored)."""
    query = select(ApiKey).order_by(ApiKey.id)
    if site_key:
        query = query.join(Site).where(Site.key == site_key)
    for key in db.session.scalars(query):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        site = key.site.key if key.site else "(every site)"
        click.echo(f"{key.prefix}…  {key.role:8} {site:20} {state:18} {key.name}")


@cmp.command("revoke-key")
@click.argument("prefix")
@with_appcontext
def revoke_key(prefix: str) -> None:
    """Revoke the key whose secret starts with PREFIX (as `list-keys` shows it)."""
    matches = db.session.scalars(select(ApiKey).where(ApiKey.prefix.startswith(prefix[:12]))).all()
    matches = [key for key in matches if prefix.startswith(key.prefix) or key.prefix.startswith(prefix)]
    if len(matches) != 1:
        raise click.ClickException(f"{len(matches)} keys start with {prefix!r}: give one exactly")
    keys.revoke(matches[0])
    db.session.commit()
    click.echo(f"revoked {matches[0].prefix}… ({matches[0].role}, {matches[0].name})")


def _site(site_key: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise click.ClickException(f"no site {site_key!r}")
    return site


@cmp.command("generate-key")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def generate_key(output: Path) -> None:
    """Write a new Ed25519 signing key (PKCS#8 PEM, readable by its owner only) for CMP_SIGNING_KEY."""
    if output.exists():
        raise click.ClickException(f"{output} exists: a signing key is never overwritten")
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(SigningKey.generate("unnamed").pem())  # the name comes from CMP_LOG_NAME when it signs
    click.echo(f"wrote {output}; set CMP_SIGNING_KEY={output.resolve()}")


@cmp.command("checkpoint")
@click.argument("site_key", required=False)
@click.option("--force", is_flag=True, help="Sign a checkpoint even with nothing new (after rotating the key).")
@with_appcontext
def checkpoint(site_key: str | None, force: bool) -> None:
    """Give queued records their log positions and sign checkpoints (every site, or one)."""
    keyring = current_app.extensions["cmp.keys"]
    sites = [_site(site_key)] if site_key else db.session.scalars(select(Site).order_by(Site.key)).all()
    for site in sites:
        signed = logbook.sequence(site, keyring.current, keyring.name, force=force)
        if signed is not None:
            click.echo(f"{site.key}: checkpoint of size {signed.tree_size}, root {signed.root_hash[:16]}...")
        elif site_key:
            click.echo(f"{site.key}: nothing new to sequence")


@cmp.command("partitions")
@click.option("--ahead", type=click.IntRange(min=0), default=partitions.MONTHS_AHEAD, show_default=True)
@with_appcontext
def make_partitions(ahead: int) -> None:
    """Make the monthly partitions of consent records up to AHEAD months from now (PostgreSQL only)."""
    with db.engine.begin() as connection:
        made = partitions.ensure(connection, ahead=ahead)
    click.echo(f"{made} monthly partitions present" if made else "nothing to do: the database is not PostgreSQL")


@cmp.command("verify")
@click.argument("site_key")
@click.option("--since", type=click.DateTime(), help="Re-hash only records from this UTC time on.")
@click.option("--until", type=click.DateTime(), help="Re-hash only records before this UTC time.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes for a large log (default: one per CPU).")
@with_appcontext
def verify(site_key: str, since, until, jobs: int | None) -> None:
    """Check a site's consent log against its signed checkpoints; exit status 1 if anything is broken."""
    keyring = current_app.extensions["cmp.keys"]
    result = logbook.verify_site(
        _site(site_key),
        keyring.public_keys(),
        keyring.name,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
        jobs=jobs,
    )
    contents, tree = result.report.contents, result.report.tree
    click.echo(
        f"{site_key}: {contents.positions} log positions, {contents.records_checked} records re-hashed, "
        f"{contents.purged} purged, {len(tree.checkpoints)} checkpoints"
    )
    if contents.first and contents.last:
        click.echo(f"  first record checked: {contents.first[0]} {contents.first[1]}")
        click.echo(f"  last record checked:  {contents.last[0]} {contents.last[1]}")
    click.echo(
        f"  covered by the latest valid checkpoint: positions 0 to {tree.covered - 1}"
        if tree.covered
        else "  no valid checkpoint covers any position yet"
    )
    if result.pending:
        click.echo(f"  {result.pending} recorded decision(s) awaiting their log position (run `cmp checkpoint`)")
    for purge in result.purges:
        click.echo(
            f"  purge on {purge.created_at:%Y-%m-%d}: {purge.records} records older than {purge.before:%Y-%m-%d}"
        )
    if result.erasures:
        click.echo(f"  {result.erasures} erasure(s) of personal data (records still verify)")
    for found in result.report.breaks:
        where = f"position {found.position}" if found.position is not None else "log"
        click.echo(f"  BROKEN [{found.kind}] {where}: {found.message}")
    click.echo(
        "  OK: nothing altered, missing, inserted or reordered"
        if result.ok
        else f"  {len(result.report.breaks)} break(s)"
    )
    if not result.ok:
        sys.exit(1)


@cmp.command("purge")
@click.argument("site_key")
@click.option("--before", type=click.DateTime(), help="Cutoff (UTC); default: now minus the site's retention.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def purge(site_key: str, before, yes: bool) -> None:
    """Delete records older than the site's retention period; the rest of the log still verifies."""
    site = _site(site_key)
    keyring = current_app.extensions["cmp.keys"]
    logbook.sequence(site, keyring.current, keyring.name)  # nothing about to be purged may still be queued
    cutoff = before.replace(tzinfo=UTC) if before else utcnow() - timedelta(days=site.retention_days)
    if not yes:
        click.confirm(f"Delete {site_key}'s consent records older than {cutoff:%Y-%m-%d %H:%M} UTC?", abort=True)
    done = logbook.purge(site, cutoff)
    click.echo(f"{site_key}: purged {done.records} records older than {cutoff:%Y-%m-%d %H:%M} UTC (recorded)")


@cmp.command("erase")
@click.argument("site_key")
@click.argument("consent_id")
@with_appcontext
def erase(site_key: str, consent_id: str) -> None:
    """Erase one visitor's personal data (GDPR Art. 17): IP, browser, OS, device and page of every record."""
    done = logbook.erase(_site(site_key), consent_id)
    click.echo(f"{site_key}: erased the personal data of {done.records} records of {consent_id} (recorded)")


# --- auditors ---------------------------------------------------------------------------------------------------


def _audit_query(schema, values: dict) -> dict:
    """Options checked by the API's own query schema, so that both refuse the same input in the same words."""
    try:
        return schema.load({name: value for name, value in values.items() if value not in (None, ())})
    except ValidationError as error:
        lines = "\n".join(_flatten({f"--{name.replace('_', '-')}": m for name, m in error.messages.items()}))
        raise click.ClickException(f"invalid options:\n{lines}") from None


def _write(chunks, output: Path | None) -> None:
    stream = output.open("w", encoding="utf-8", newline="") if output else None
    try:
        for chunk in chunks:
            if stream:
                stream.write(chunk)
            else:
                click.echo(chunk, nl=False)
    finally:
        if stream:
            stream.close()


@cmp.command("export-log")
@click.argument("site_key")
@click.option("--format", "format_", type=click.Choice(["csv", "ndjson"]), default="csv", show_default=True)
@click.option("--since", help="From this day or time on (2026-11-01, 2026-11-01T09:30:00Z; UTC).")
@click.option("--until", help="Before this day or time.")
@click.option("--region", multiple=True, help="Only records made in this region (FR, US-CA); repeatable.")
@click.option("--method", multiple=True, help="Only records made this way (accept_all, gpc, ...); repeatable.")
@click.option("--category", multiple=True, help="Only records where a category has a state: analytics=granted.")
@click.option("--consent-id", help="Only this visitor's records.")
@click.option("--no-personal", is_flag=True, help="Leave out the personal data (IP, browser, OS, device, page).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout).")
@with_appcontext
def export_log(site_key, format_, since, until, region, method, category, consent_id, no_personal, output):
    """Export a site's consent log as CSV or NDJSON (docs/auditors.md), streamed in constant memory."""
    from . import exporting
    from .schemas.audit import ExportQuerySchema, export_filter

    query = _audit_query(
        ExportQuerySchema(),
        {
            "format": format_,
            "since": since,
            "until": until,
            "region": list(region),
            "method": list(method),
            "category": list(category),
            "consent_id": consent_id,
        },
    )
    site = _site(site_key)
    export = exporting.csv if format_ == "csv" else exporting.ndjson
    _write(export(site, export_filter(query), not no_personal), output)


@cmp.command("audit-bundle")
@click.argument("site_key")
@click.option("--since", help="From this day or time on (2026-11-01, 2026-11-01T09:30:00Z; UTC).")
@click.option("--until", help="Before this day or time.")
@click.option("--no-personal", is_flag=True, help="Leave out the personal data and their salts.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="ZIP to write.")
@with_appcontext
def audit_bundle(site_key, since, until, no_personal, output):
    """Write an audit bundle of a site's consent log (docs/auditors.md); check it with tools/verify_bundle.py."""
    from . import bundling
    from .schemas.audit import BundleQuerySchema

    query = _audit_query(BundleQuerySchema(), {"since": since, "until": until})
    site = _site(site_key)
    keyring = current_app.extensions["cmp.keys"]
    logbook.sequence(site, keyring.current, keyring.name)  # what was just recorded belongs in it too
    try:
        with output.open("wb") as file:
            built = bundling.build(
                site,
                file,
                keys=keyring.public_keys(),
                log_name=keyring.name,
                since=query.get("since"),
                until=query.get("until"),
                with_personal=not no_personal,
            )
    except bundling.NothingToBundle as nothing:
        output.unlink(missing_ok=True)
        raise click.ClickException(str(nothing)) from None
    manifest = built.manifest
    counts, positions = manifest["counts"], manifest["positions"]
    click.echo(
        f"wrote {output}: positions {positions['first']} to {positions['last']} of {manifest['log']}, "
        f"{counts['records']} records ({counts['in_period']} in the period), {counts['purged']} purged, "
        f"{counts['versions']} version(s), checkpoint of size {manifest['checkpoint']['tree_size']}"
    )
    click.echo(f"check it with: python3 tools/verify_bundle.py {output}")


@cmp.command("consent-report")
@click.argument("site_key")
@click.option("--since", help="From this day on (2026-11-01; default: 30 days before --until).")
@click.option("--until", help="Before this day (default: tomorrow, so that today counts).")
@click.option("--format", "format_", type=click.Choice(["json", "csv", "html"]), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout).")
@with_appcontext
def consent_report(site_key, since, until, format_, output):
    """A site's consent rates: banners shown and how they were answered (docs/auditors.md). Counts only."""
    from . import reporting
    from .core.reports import report_csv
    from .schemas.audit import ConsentRateReportSchema, ReportQuerySchema
    from .web.reports import render

    query = _audit_query(ReportQuerySchema(), {"since": since, "until": until, "format": format_})
    site = _site(site_key)
    start, end = reporting.period(query.get("since"), query.get("until"))
    current_app.extensions["cmp.impressions"].flush()  # this process's own counts, if any
    report = reporting.report(site, start, end)
    if format_ == "csv":
        text = report_csv(report)
    elif format_ == "html":
        with current_app.test_request_context():  # the page links its stylesheet by URL
            text = render(site, report)
    else:
        text = json.dumps(ConsentRateReportSchema().dump(report), indent=1, sort_keys=True) + "\n"
    _write([text], output)


@cmp.command("openapi")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout)."
)
@with_appcontext
def openapi(output: Path | None) -> None:
    """Print the OpenAPI document generated from the schemas."""
    text = json.dumps(current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict(), indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)


@cmp.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve locally (development server) and print what a newcomer should open."""
    base = f"http://{host}:{port}"
    lines = [("Landing page, every example site", f"{base}/")]
    for key, name in published_demo_sites():
        lines.append((f"{name}, demo page", f"{base}/demo/{key}"))
    lines.append(("API reference (OpenAPI)", f"{base}/api/openapi.json"))
    width = max(len(label) for label, _ in lines) + 2
    click.echo(f"\nConsent management platform on {base} (Ctrl+C stops it)\n")
    for label, url in lines:
        click.echo(f"  {label + ':':{width}}{url}")
    click.echo()
    run_simple(host, port, current_app._get_current_object(), threaded=True)
