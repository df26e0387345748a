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


# The platform's labels for controls an owner did not word, and for the parts of the snippet's interface owners
# do not word at all (the cookie table, the placeholder of a blocked embed). Owners' texts always win.
# "{category}" is replaced by a category's name.
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
        "always_on": "Always active",
        "privacy_policy": "Privacy policy",
        "cookie_policy": "Cookie policy",
        "close_dialog": "Close",
        "reopen": "Privacy preferences",
        "cookie_name": "Cookie",
        "cookie_duration": "Duration",
        "cookie_party": "Set by",
        "cookie_purpose": "Purpose",
        "party_first": "This site",
        "party_third": "Third party",
        "history": "Your recorded choices, their history and receipts",
        "changed": "New since your last choice:",
        "opted_out": "You opted out of the sale and sharing of your personal information.",
        "placeholder": "This content is blocked until you allow {category}.",
        "allow": "Allow {category}",
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
        "always_on": "Toujours actifs",
        "privacy_policy": "Politique de confidentialité",
        "cookie_policy": "Politique de cookies",
        "close_dialog": "Fermer",
        "reopen": "Préférences de confidentialité",
        "cookie_name": "Cookie",
        "cookie_duration": "Durée",
        "cookie_party": "Déposé par",
        "cookie_purpose": "Finalité",
        "party_first": "Ce site",
        "party_third": "Un tiers",
        "history": "Vos choix enregistrés, leur historique et leurs reçus",
        "changed": "Nouveau depuis votre dernier choix :",
        "opted_out": "Vous vous êtes opposé à la vente et au partage de vos informations personnelles.",
        "placeholder": "Ce contenu est bloqué tant que vous n'autorisez pas : {category}.",
        "allow": "Autoriser : {category}",
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
        "always_on": "Altijd actief",
        "privacy_policy": "Privacybeleid",
        "cookie_policy": "Cookiebeleid",
        "close_dialog": "Sluiten",
        "reopen": "Privacyvoorkeuren",
        "cookie_name": "Cookie",
        "cookie_duration": "Duur",
        "cookie_party": "Geplaatst door",
        "cookie_purpose": "Doel",
        "party_first": "Deze site",
        "party_third": "Derde partij",
        "history": "Uw vastgelegde keuzes, hun geschiedenis en bewijzen",
        "changed": "Nieuw sinds uw laatste keuze:",
        "opted_out": "U hebt bezwaar gemaakt tegen de verkoop en het delen van uw persoonsgegevens.",
        "placeholder": "Deze inhoud is geblokkeerd tot u {category} toestaat.",
        "allow": "{category} toestaan",
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
        "always_on": "Immer aktiv",
        "privacy_policy": "Datenschutzerklärung",
        "cookie_policy": "Cookie-Richtlinie",
        "close_dialog": "Schließen",
        "reopen": "Datenschutzeinstellungen",
        "cookie_name": "Cookie",
        "cookie_duration": "Dauer",
        "cookie_party": "Gesetzt von",
        "cookie_purpose": "Zweck",
        "party_first": "Diese Website",
        "party_third": "Drittanbieter",
        "history": "Ihre gespeicherten Entscheidungen, ihr Verlauf und Belege",
        "changed": "Neu seit Ihrer letzten Auswahl:",
        "opted_out": "Sie haben dem Verkauf und der Weitergabe Ihrer personenbezogenen Daten widersprochen.",
        "placeholder": "Dieser Inhalt ist blockiert, bis Sie {category} erlauben.",
        "allow": "{category} erlauben",
    },
    "ar": {
        "accept_all": "قبول الكل",
        "reject_all": "رفض الكل",
        "preferences": "إدارة التفضيلات",
        "save": "حفظ اختياراتي",
        "close": "حسنًا",
        "preferences_title": "تفضيلات الخصوصية",
        "always_on": "نشطة دائمًا",
        "privacy_policy": "سياسة الخصوصية",
        "cookie_policy": "سياسة ملفات تعريف الارتباط",
        "close_dialog": "إغلاق",
        "reopen": "تفضيلات الخصوصية",
        "cookie_name": "ملف تعريف الارتباط",
        "cookie_duration": "المدة",
        "cookie_party": "الجهة",
        "cookie_purpose": "الغرض",
        "party_first": "هذا الموقع",
        "party_third": "طرف ثالث",
        "history": "اختياراتك المسجلة وسجلها وإيصالاتها",
        "changed": "الجديد منذ اختيارك الأخير:",
        "placeholder": "هذا المحتوى محظور حتى تسمح بـ {category}.",
        "allow": "السماح بـ {category}",
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
        "always_on": "Siempre activas",
        "privacy_policy": "Política de privacidad",
        "cookie_policy": "Política de cookies",
        "close_dialog": "Cerrar",
        "reopen": "Preferencias de privacidad",
        "cookie_name": "Cookie",
        "cookie_duration": "Duración",
        "cookie_party": "Instalada por",
        "cookie_purpose": "Finalidad",
        "party_first": "Este sitio",
        "party_third": "Un tercero",
        "history": "Sus elecciones registradas, su historial y sus recibos",
        "changed": "Novedades desde su última elección:",
        "opted_out": "Se ha opuesto a la venta y la cesión de su información personal.",
        "placeholder": "Este contenido está bloqueado hasta que permita {category}.",
        "allow": "Permitir {category}",
    },
}


def labels(language: str) -> dict[str, str]:
    """Every platform label, in ``language`` where the platform has it, else in English."""
    return {**DEFAULT_LABELS["en"], **DEFAULT_LABELS.get(primary(language), {})}
