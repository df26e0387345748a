"""The auditor's API: export a site's consent log (CSV, NDJSON), build an audit bundle anyone can verify offline,
and read the site's consent rates. Every key of the site may read them (owner and auditor keys), and the
operator's admin key; another site's key gets 403.
"""

from __future__ import annotations

import tempfile

from flask import Response, current_app, jsonify, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE

from .. import bundling, exporting, reporting
from ..core import reports
from ..schemas.audit import (
    BundleQuerySchema,
    ConsentRateReportSchema,
    ExportQuerySchema,
    ReportQuerySchema,
    export_filter,
)
from ..web import reports as report_page
from .auth import SECURITY, site_for

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1",
    description="Auditors: export a site's consent log, build verifiable audit bundles, read consent rates.",
)

CSV_TYPE = "text/csv; charset=utf-8; header=present"
NDJSON_TYPE = "application/x-ndjson"


def _text_response(description: str, *media_types: str) -> dict:
    return {
        "200": {
            "description": description,
            "content": {media: {"schema": {"type": "string"}} for media in media_types},
        }
    }


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@blp.route("/sites/<site_key>/records")
class RecordsExport(MethodView):
    @blp.doc(
        security=SECURITY,
        summary="Export the site's consent log for a period (CSV or NDJSON), streamed",
        description="One record per CSV row or NDJSON line, oldest first. NDJSON embeds each record's canonical "
        "form exactly as it was hashed, with its log position and record hash, so that it can be re-hashed; CSV "
        "has one column per category and is protected against formula injection (docs/auditors.md).",
        responses=_text_response("The records, streamed.", "text/csv", NDJSON_TYPE),
    )
    @blp.arguments(ExportQuerySchema, location="query", unknown=RAISE)  # a mistyped filter must not widen
    def get(self, query, site_key):
        site = site_for(site_key)
        flt = export_filter(query)
        personal = query["personal"]
        if query["format"] == "csv":
            body, media, extension = exporting.csv(site, flt, personal), CSV_TYPE, "csv"
        else:
            body, media, extension = exporting.ndjson(site, flt, personal), NDJSON_TYPE, "ndjson"
        headers = _attachment(exporting.file_name(site, flt, extension))
        return Response(stream_with_context(body), content_type=media, headers=headers)


@blp.route("/sites/<site_key>/audit-bundle")
class AuditBundle(MethodView):
    @blp.doc(
        security=SECURITY,
        summary="An audit bundle of the site's consent log for a period (ZIP), checkable offline",
        description="The records of the period with the published versions they name, signed checkpoints, a Merkle "
        "range proof, the published keys and a manifest (docs/auditors.md). Check it with tools/verify_bundle.py. "
        "404 when no logged record falls in the period.",
        responses={
            "200": {
                "description": "The bundle.",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    @blp.arguments(BundleQuerySchema, location="query", unknown=RAISE)  # a mistyped filter must not widen
    def get(self, query, site_key):
        site = site_for(site_key)
        keyring = current_app.extensions["cmp.keys"]
        since, until = query.get("since"), query.get("until")
        archive = tempfile.TemporaryFile()  # noqa: SIM115 - on disk, not in memory; closed once sent
        try:
            bundling.build(
                site,
                archive,
                keys=keyring.public_keys(),
                log_name=keyring.name,
                since=since,
                until=until,
                with_personal=query["personal"],
            )
        except bundling.NothingToBundle as nothing:
            archive.close()
            abort(404, message=str(nothing))
        except BaseException:
            archive.close()
            raise
        headers = _attachment(bundling.file_name(site, since, until)) | {"Content-Length": str(archive.tell())}
        return Response(bundling.stream(archive), content_type="application/zip", headers=headers)


MAX_REPORT_DAYS = 366


@blp.route("/sites/<site_key>/consent-rates")
class ConsentRates(MethodView):
    @blp.doc(
        security=SECURITY,
        summary="The site's consent rates: banners shown and how they were answered (JSON, CSV, or a page)",
        description="Counts for whole UTC days (default: the last 30): impressions, decisions by method and the "
        "estimated 'no action', by day, region, published version, and the granted rate of each category. "
        "`format=html` is a page with charts. Only counts: no personal data.",
        responses={
            "200": {
                "description": "The report.",
                "content": {
                    "application/json": {"schema": ConsentRateReportSchema},
                    "text/csv": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}},
                },
            }
        },
    )
    @blp.arguments(ReportQuerySchema, location="query", unknown=RAISE)  # a mistyped filter must not widen
    def get(self, query, site_key):
        site = site_for(site_key)
        since, until = reporting.period(query.get("since"), query.get("until"))
        if (until - since).days > MAX_REPORT_DAYS:
            abort(422, errors={"query": {"until": [f"a report covers at most {MAX_REPORT_DAYS} days"]}})
        report = reporting.report(site, since, until)
        if query["format"] == "csv":
            name = f"{site.key}-consent-rates-{since:%Y-%m-%d}-to-{until:%Y-%m-%d}.csv"
            return Response(reports.report_csv(report), content_type=CSV_TYPE, headers=_attachment(name))
        if query["format"] == "html":
            headers = {
                "Content-Security-Policy": report_page.CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-store",
            }
            return Response(report_page.render(site, report), content_type="text/html; charset=utf-8", headers=headers)
        return jsonify(ConsentRateReportSchema().dump(report))
