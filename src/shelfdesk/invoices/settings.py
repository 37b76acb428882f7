"""Per-store invoice settings, and the sanitizing of the merchant's header and footer HTML.

A store that was never configured gets defaults (its country's language, 20 %
VAT, prefix ``F``, the workspace's company name as seller), and invoicing
refuses until the seller's address is known: an invoice without its seller's
identity is not a valid invoice.

The header and footer are HTML the merchant writes (in ``$EDITOR`` from the
console). They end up in a document sent to buyers and marketplaces, so they
are cleaned with nh3 (the Ammonia sanitizer): scripts, styles, event handlers,
forms, iframes and images are removed, and links keep only http(s) and mailto
targets; nothing in an invoice loads anything from the network.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from shelfdesk.invoices.errors import InvoiceError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext

LANGUAGES = ("fr", "en")
PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_./-]{0,24}")
ALLOWED_TAGS = {
    "a",
    "b",
    "br",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan"}, "th": {"colspan"}}


@dataclass(frozen=True)
class InvoiceSettingsInfo:
    """One store's invoice settings as the CLI and the console show them."""

    store_id: int
    store_name: str
    language: str
    product_vat_rate: Decimal
    shipping_vat_rate: Decimal
    prefix: str
    number_digits: int
    next_number: int
    seller_name: str
    seller_address: str
    seller_vat_number: str | None
    seller_registration: str | None
    header_html: str
    footer_html: str
    upload: bool
    configured: bool  #: False while the store still runs on defaults

    def problems(self) -> list[str]:
        """What must be set before this store can invoice."""
        missing = []
        if not self.seller_name.strip():
            missing.append("the seller's legal name (seller_name)")
        if not self.seller_address.strip():
            missing.append("the seller's address (seller_address)")
        return missing


EDITABLE = (
    "language",
    "product_vat_rate",
    "shipping_vat_rate",
    "prefix",
    "number_digits",
    "next_number",
    "seller_name",
    "seller_address",
    "seller_vat_number",
    "seller_registration",
    "header_html",
    "footer_html",
    "upload",
)


def sanitize_html(html: str) -> str:
    """The merchant's HTML without anything that runs or loads: safe to print and to send."""
    import nh3

    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        strip_comments=True,
        link_rel="noopener noreferrer",
    ).strip()


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "hr", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("  ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(re.sub(r"\s+", " ", data))


def html_to_lines(html: str) -> list[str]:
    """Plain text lines of sanitized HTML, for the PDF (which prints text, not markup)."""
    parser = _TextExtractor()
    parser.feed(html or "")
    parser.close()
    return [line.strip() for line in "".join(parser.parts).split("\n") if line.strip()]


# ---------------------------------------------------------------------- reading


def find_store(session: Session, reference: str | int) -> Any:
    """A store by name or id; InvoiceError names the known stores when there is none."""
    from sqlalchemy import select

    from shelfdesk.db.models import Store

    text = str(reference).strip()
    store = session.execute(select(Store).where(Store.name == text)).scalar_one_or_none()
    if store is None and text.isdigit():
        store = session.get(Store, int(text))
    if store is None:
        names = session.execute(select(Store.name).order_by(Store.name)).scalars().all()
        raise InvoiceError(f"no store {text!r} (stores: {', '.join(names) or 'none yet'})")
    return store


def settings_for(session: Session, store: Any, company: str) -> InvoiceSettingsInfo:
    """The store's settings, or its defaults when it was never configured."""
    from shelfdesk.db.models import InvoiceSettings
    from shelfdesk.invoices.numbering import peek_next

    row = session.get(InvoiceSettings, store.id)
    if row is None:
        prefix = "F"
        return InvoiceSettingsInfo(
            store_id=store.id,
            store_name=store.name,
            language="fr" if store.country == "FR" else "en",
            product_vat_rate=Decimal("20.0000"),
            shipping_vat_rate=Decimal("20.0000"),
            prefix=prefix,
            number_digits=5,
            next_number=peek_next(session, prefix),
            seller_name=company,
            seller_address="",
            seller_vat_number=None,
            seller_registration=None,
            header_html="",
            footer_html="",
            upload=True,
            configured=False,
        )
    return InvoiceSettingsInfo(
        store_id=store.id,
        store_name=store.name,
        language=row.language,
        product_vat_rate=row.product_vat_rate,
        shipping_vat_rate=row.shipping_vat_rate,
        prefix=row.prefix,
        number_digits=row.number_digits,
        next_number=peek_next(session, row.prefix),
        seller_name=row.seller_name,
        seller_address=row.seller_address,
        seller_vat_number=row.seller_vat_number,
        seller_registration=row.seller_registration,
        header_html=row.header_html,
        footer_html=row.footer_html,
        upload=row.upload,
        configured=True,
    )


def get_settings(ctx: AppContext, store: str | int) -> InvoiceSettingsInfo:
    with ctx.read_session() as session:
        return settings_for(session, find_store(session, store), ctx.settings.company)


def list_settings(ctx: AppContext) -> list[InvoiceSettingsInfo]:
    from sqlalchemy import select

    from shelfdesk.db.models import Store

    with ctx.read_session() as session:
        stores = session.execute(select(Store).order_by(Store.name)).scalars().all()
        return [settings_for(session, store, ctx.settings.company) for store in stores]


# ---------------------------------------------------------------------- writing


def _rate(name: str, value: Any) -> Decimal:
    try:
        rate = Decimal(str(value).strip().rstrip("%").strip().replace(",", "."))
    except InvalidOperation:
        raise InvoiceError(f"{name}: {value!r} is not a percentage such as 20 or 5.5") from None
    if not rate.is_finite() or not (0 <= rate < 100) or rate != rate.quantize(Decimal("0.0001")):
        raise InvoiceError(f"{name}: {value!r} must be between 0 and 100 with at most 4 decimals")
    return rate.quantize(Decimal("0.0001"))


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Check and normalize requested changes; raises InvoiceError naming the first bad field."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvoiceError(f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(EDITABLE)}")
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "language":
            value = str(value).strip().lower()
            if value not in LANGUAGES:
                raise InvoiceError(f"language must be one of {', '.join(LANGUAGES)}, not {value!r}")
        elif key in ("product_vat_rate", "shipping_vat_rate"):
            value = _rate(key, value)
        elif key == "prefix":
            value = str(value).strip()
            if not PREFIX_PATTERN.fullmatch(value):
                raise InvoiceError("prefix: up to 24 letters, digits and _ . / - (for example F2026-)")
        elif key in ("number_digits", "next_number"):
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise InvoiceError(f"{key} must be a whole number, not {value!r}") from None
            if key == "number_digits" and not 1 <= value <= 12:
                raise InvoiceError("number_digits must be between 1 and 12")
        elif key in ("header_html", "footer_html"):
            value = sanitize_html(str(value or ""))
        elif key == "upload":
            if not isinstance(value, bool):
                raise InvoiceError("upload must be true or false")
        elif key in ("seller_vat_number", "seller_registration"):
            value = str(value).strip() or None if value is not None else None
        else:
            value = str(value or "").strip()
        clean[key] = value
    return clean


def update_settings(ctx: AppContext, store: str | int, changes: dict[str, Any]) -> InvoiceSettingsInfo:
    """Apply ``changes`` to a store's settings in one transaction (audited); nothing changes on error."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import InvoiceSettings
    from shelfdesk.invoices.numbering import set_next

    clean = validate_changes(changes)
    now = ctx.clock.now()
    with ctx.write_session() as session:
        store_row = find_store(session, store)
        current = settings_for(session, store_row, ctx.settings.company)
        row = session.get(InvoiceSettings, store_row.id)
        if row is None:
            row = InvoiceSettings(
                store_id=store_row.id,
                language=current.language,
                product_vat_rate=current.product_vat_rate,
                shipping_vat_rate=current.shipping_vat_rate,
                prefix=current.prefix,
                number_digits=current.number_digits,
                seller_name=current.seller_name,
                seller_address=current.seller_address,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
        next_number = clean.pop("next_number", None)
        for key, value in clean.items():
            setattr(row, key, value)
        row.updated_at = now
        session.flush()
        if next_number is not None:
            set_next(session, row.prefix, next_number, now)
        shown = {k: (v if k not in ("header_html", "footer_html") else f"{len(v)} characters") for k, v in clean.items()}
        if next_number is not None:
            shown["next_number"] = next_number
        record_audit(session, ctx, "invoice_settings.update", "store", store_row.name, {k: str(v) for k, v in shown.items()}, at=now)
        return settings_for(session, store_row, ctx.settings.company)


# ---------------------------------------------------------------------- editing as a document


def settings_document(info: InvoiceSettingsInfo) -> str:
    """The settings as a TOML document to edit in ``$EDITOR`` (header and footer as multi-line strings)."""

    def value(key: str, v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, Decimal):
            return f'"{v.normalize():f}"'
        text = "" if v is None else str(v)
        if key in ("header_html", "footer_html", "seller_address"):
            return "'''\n" + text.replace("'''", "") + "\n'''"  # literal string: no escapes to get wrong
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        f"# Invoice settings of store {info.store_name!r}. Save and close to apply; an error changes nothing.",
        "# language: fr or en. VAT rates in percent. next_number can only change while the prefix has no invoice.",
        "# header_html / footer_html: simple HTML (p, b, i, br, tables, links); scripts and images are removed.",
        "",
    ]
    data = asdict(info)
    for key in EDITABLE:
        lines.append(f"{key} = {value(key, data[key])}")
    return "\n".join(lines) + "\n"


def parse_settings_document(text: str) -> dict[str, Any]:
    """The edited TOML back into changes; InvoiceError when it does not parse."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvoiceError(f"the settings file does not parse: {exc}") from None
    for key in ("header_html", "footer_html", "seller_address"):
        if isinstance(data.get(key), str):
            data[key] = data[key].strip("\n")
    return data
