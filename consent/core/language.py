"""Choosing the language a visitor is served in, and the platform's own words where an owner gave none."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"})


def primary(tag: str) -> str:
    return tag.split("-", 1)[0].lower()


def direction(tag: str) -> str:
    return "rtl" if primary(tag) in RTL_LANGUAGES else "ltr"


def negotiate(requested: Iterable[str], available: Sequence[str], default: str) -> str:
    """The first of ``requested`` (best first) that ``available`` offers, exactly or by primary language
    (``fr-BE`` gets ``fr``, ``pt`` gets ``pt-BR``); else ``default``."""
    by_lower = {tag.lower(): tag for tag in available}
    by_primary: dict[str, str] = {}
    for tag in available:
        by_primary.setdefault(primary(tag), tag)
    for tag in requested:
        tag = tag.strip().lower()
        if tag == "*":
            return default
        if tag in by_lower:
            return by_lower[tag]
        if primary(tag) in by_primary:
            return by_primary[primary(tag)]
    return default


def pick(texts: Mapping[str, str], language: str, fallback: str) -> str | None:
    """One language's entry of a ``{language: text}`` mapping, falling back to the site's default language."""
    if not texts:
        return None
    for candidate in (language, primary(language), fallback, primary(fallback)):
        if candidate in texts:
            return texts[candidate]
    return next(iter(texts.values()))


# The platform's labels for controls an owner did not word. Owners' texts always win.
DEFAULT_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "accept_all": "Accept all",
        "reject_all": "Reject all",
        "preferences": "Manage preferences",
        "save": "Save my choices",
        "close": "OK",
        "do_not_sell": "Do Not Sell or Share My Personal Information",
        "preferences_title": "Privacy preferences",
        "gpc_honored": "Opt-out request honored: your browser's Global Privacy Control signal opted you out of "
        "the sale and sharing of your personal information.",
    },
    "fr": {
        "accept_all": "Tout accepter",
        "reject_all": "Tout refuser",
        "preferences": "Personnaliser",
        "save": "Enregistrer mes choix",
        "close": "J'ai compris",
        "do_not_sell": "Ne pas vendre ni partager mes informations personnelles",
        "preferences_title": "Préférences de confidentialité",
        "gpc_honored": "Demande d'opposition respectée : le signal Global Privacy Control de votre navigateur "
        "vous exclut de la vente et du partage de vos informations personnelles.",
    },
    "nl": {
        "accept_all": "Alles accepteren",
        "reject_all": "Alles weigeren",
        "preferences": "Voorkeuren beheren",
        "save": "Mijn keuzes opslaan",
        "close": "Begrepen",
        "do_not_sell": "Mijn persoonsgegevens niet verkopen of delen",
        "preferences_title": "Privacyvoorkeuren",
        "gpc_honored": "Bezwaar gehonoreerd: het Global Privacy Control-signaal van uw browser sluit u uit van "
        "de verkoop en het delen van uw persoonsgegevens.",
    },
    "de": {
        "accept_all": "Alle akzeptieren",
        "reject_all": "Alle ablehnen",
        "preferences": "Einstellungen verwalten",
        "save": "Auswahl speichern",
        "close": "Verstanden",
        "do_not_sell": "Meine personenbezogenen Daten nicht verkaufen oder weitergeben",
        "preferences_title": "Datenschutzeinstellungen",
        "gpc_honored": "Widerspruch umgesetzt: Das Global-Privacy-Control-Signal Ihres Browsers schließt Sie "
        "vom Verkauf und von der Weitergabe Ihrer personenbezogenen Daten aus.",
    },
    "es": {
        "accept_all": "Aceptar todo",
        "reject_all": "Rechazar todo",
        "preferences": "Gestionar preferencias",
        "save": "Guardar mis opciones",
        "close": "Entendido",
        "do_not_sell": "No vender ni compartir mi información personal",
        "preferences_title": "Preferencias de privacidad",
        "gpc_honored": "Solicitud de exclusión atendida: la señal Global Privacy Control de su navegador le "
        "excluye de la venta y la cesión de su información personal.",
    },
}


def labels(language: str) -> dict[str, str]:
    return DEFAULT_LABELS.get(primary(language), DEFAULT_LABELS["en"])
