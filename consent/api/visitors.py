"""What a request says about the visitor, for every public endpoint alike: where they are (with the test
override, when allowed) and whether their page's origin belongs to the site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from flask_smorest import abort

from ..core.regions import Region
from ..core.siteconfig import SiteConfig
from ..geo import Location


def locate(config: SiteConfig, override: str | None, field: tuple[str, str] = ("query", "region")) -> Location:
    """The visitor's location; ``override`` is the test parameter, refused (400, naming ``field``) unless the
    operator allows it (``CMP_REGION_OVERRIDE``) or, when the operator did not say, outside production or for a
    site that allows it."""
    app = current_app._get_current_object()  # the proxies cost on the banner's hot path: look up once
    region = None
    if override is not None:
        settings = app.config["CMP_SETTINGS"]
        allowed = settings.region_override  # the operator's explicit setting wins over a site's
        if allowed is None:
            allowed = not settings.production or config.site.allow_region_override
        where, name = field
        if not allowed:
            abort(400, errors={where: {name: ["the region override is disabled"]}}, message="Region override refused.")
        try:
            region = Region.parse(override)
        except ValueError as error:
            abort(400, errors={where: {name: [str(error)]}}, message="Not a region code.")
    visitor = request._get_current_object()
    return app.extensions["cmp.locator"].locate(
        visitor.headers, visitor.remote_addr, region, config.site.default_region
    )


def allows_origin(config: SiteConfig, origin: str) -> bool:
    """Whether a page at ``origin`` (scheme://host[:port]) is one of the site's domains (``*.`` matches any
    subdomain), or, outside production, one of the service's own pages (the demo pages)."""
    if is_own_origin(origin):
        return True
    host = origin.split("://", 1)[-1].lower()
    for domain in config.site.domains:
        if host == domain or (domain.startswith("*.") and host.endswith(domain[1:])):
            return True
    return False


def allow_site_pages(blueprint, methods: str, headers: str = "Content-Type") -> None:
    """CORS for a blueprint's endpoints with a ``site_key``: the site's own pages may call them (and preflight
    them); no other origin may."""

    @blueprint.after_request
    def cors(response):
        origin = request.headers.get("Origin")
        site_key = (request.view_args or {}).get("site_key")
        if origin and site_key:
            live = current_app.extensions["cmp.live"].get(site_key)
            if live is not None and allows_origin(live.config, origin):
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Allow-Headers"] = headers
                response.headers["Access-Control-Allow-Methods"] = methods
                response.headers["Access-Control-Max-Age"] = "600"
            response.vary.add("Origin")
        return response


def is_own_origin(origin: str) -> bool:
    """Outside production, the service's own origin (``CMP_PUBLIC_URL`` or the host this request came to) serves
    the demo pages, which embed the snippet for sites whose domains it is not. In production it is never a
    site's page: a decision must come from the site's own domains."""
    settings = current_app.config["CMP_SETTINGS"]
    if settings.production:
        return False
    own = {_origin_of(settings.public_url), _origin_of(request.host_url)}
    return _origin_of(origin) in own


def _origin_of(url: str) -> str:
    parts = urlsplit(url.lower())
    return f"{parts.scheme}://{parts.netloc}"
