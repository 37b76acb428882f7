"""Rendering an invoice document (a plain dict, as stored) to self-contained HTML and to PDF.

The document dict is the single source: it is built once when the invoice is
issued and stored with it, so the HTML and the PDF say the same thing, and a
later change of settings never alters an issued invoice.

HTML: one file, inline styles, no script, no external resource; every value is
escaped and the merchant's header and footer are sanitized again on the way in.

PDF: fpdf2 (pure Python, installs from PyPI alone, no browser) with the PDF
core font Helvetica in the Windows-1252 encoding: the file stays small (no
embedded font), French text and the euro sign print, and the text can be
extracted (pypdf reads it back in the tests). A character outside that
encoding is replaced by its unaccented form or "?".
"""

from __future__ import annotations

import html as html_lib
import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Any

from shelfdesk.invoices.settings import html_to_lines, sanitize_html


def colon(language: str) -> str:
    """French typography puts a space before the colon; English does not."""
    return " : " if language == "fr" else ": "


LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "invoice": "Facture",
        "credit_note": "Avoir",
        "number": "N°",
        "date": "Date",
        "seller": "Vendeur",
        "buyer": "Client",
        "order": "Commande",
        "purchased": "passée le",
        "description": "Désignation",
        "quantity": "Qté",
        "unit": "PU TTC",
        "rate": "TVA",
        "net": "Total HT",
        "gross": "Total TTC",
        "shipping": "Frais de port",
        "discount": "Remise",
        "rates": "Récapitulatif de la TVA",
        "base": "Base HT",
        "vat_amount": "Montant TVA",
        "total_net": "Total HT",
        "total_vat": "Total TVA",
        "total": "Total TTC",
        "vat_number": "N° TVA intracommunautaire",
        "registration": "Immatriculation",
        "credits": "Avoir sur la facture {number} du {date}",
        "reason": "Motif",
        "paid": "Réglée via {marketplace}",
        "sku": "Réf.",
    },
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "number": "No.",
        "date": "Date",
        "seller": "Seller",
        "buyer": "Bill to",
        "order": "Order",
        "purchased": "placed on",
        "description": "Description",
        "quantity": "Qty",
        "unit": "Unit price incl. VAT",
        "rate": "VAT",
        "net": "Total excl. VAT",
        "gross": "Total incl. VAT",
        "shipping": "Shipping",
        "discount": "Discount",
        "rates": "VAT summary",
        "base": "Net amount",
        "vat_amount": "VAT amount",
        "total_net": "Total excl. VAT",
        "total_vat": "Total VAT",
        "total": "Total incl. VAT",
        "vat_number": "VAT number",
        "registration": "Registration",
        "credits": "Credit note for invoice {number} of {date}",
        "reason": "Reason",
        "paid": "Paid through {marketplace}",
        "sku": "SKU",
    },
}

SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}
MARKETPLACE_NAMES = {"backmarket": "Back Market", "leboncoin": "Leboncoin"}


def labels(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["en"])


def format_money(value: Decimal | str, currency: str, language: str) -> str:
    """``1 234,50 €`` in French, ``€1,234.50`` in English (amounts as the buyer reads them)."""
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    grouped = f"{abs(amount):,.2f}"
    symbol = SYMBOLS.get(currency, currency)
    if language == "fr":
        grouped = grouped.replace(",", "\u00a0").replace(".", ",")
        return f"{sign}{grouped}\u00a0{symbol}"
    if symbol == currency:
        return f"{sign}{grouped} {currency}"
    return f"{sign}{symbol}{grouped}"


def format_rate(rate: Decimal | str, language: str) -> str:
    text = f"{Decimal(rate).normalize():f}"
    return (text.replace(".", ",") if language == "fr" else text) + "\u00a0%"


def format_date(value: str | datetime, language: str) -> str:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.strftime("%d/%m/%Y") if language == "fr" else when.strftime("%Y-%m-%d")


def line_label(line: dict[str, Any], language: str) -> str:
    if line.get("kind") in ("shipping", "discount") and not line.get("description"):
        return labels(language)[line["kind"]]
    return str(line.get("description") or "")


def title_of(document: dict[str, Any]) -> str:
    words = labels(document["language"])
    return f"{words[document['kind']]} {document['number']}"


# ---------------------------------------------------------------------- HTML


def _e(value: Any) -> str:
    return html_lib.escape("" if value is None else str(value))


def _multiline(value: str | None) -> str:
    return "<br>".join(_e(part) for part in (value or "").splitlines())


def render_html(document: dict[str, Any]) -> str:
    """A self-contained HTML page of the invoice (inline CSS, no script, nothing remote)."""
    lang, cur = document["language"], document["currency"]
    w = labels(lang)

    def m(value: Any) -> str:
        return _e(format_money(value, cur, lang))

    seller, buyer, order = document["seller"], document["buyer"], document["order"]
    c = colon(lang)
    seller_ids = []
    if seller.get("vat_number"):
        seller_ids.append(f"{_e(w['vat_number'])}{c}{_e(seller['vat_number'])}")
    if seller.get("registration"):
        seller_ids.append(f"{_e(w['registration'])}{c}{_e(seller['registration'])}")
    rows = "\n".join(
        f"<tr><td>{_e(line_label(l, lang))}"
        + (f"<br><small>{_e(w['sku'])} {_e(l['sku'])}</small>" if l.get("sku") else "")
        + f"</td><td class=n>{_e(l['quantity'])}</td><td class=n>{m(l['unit_gross'])}</td>"
        f"<td class=n>{_e(format_rate(l['rate'], lang))}</td><td class=n>{m(l['net'])}</td><td class=n>{m(l['gross'])}</td></tr>"
        for l in document["lines"]
    )
    rates = "\n".join(
        f"<tr><td>{_e(format_rate(r['rate'], lang))}</td><td class=n>{m(r['net'])}</td>"
        f"<td class=n>{m(r['vat'])}</td><td class=n>{m(r['gross'])}</td></tr>"
        for r in document["rates"]
    )
    credited = ""
    if document.get("credited"):
        credited = f"<p class=note>{_e(w['credits'].format(number=document['credited']['number'], date=format_date(document['credited']['issued_at'], lang)))}</p>"
        if document.get("reason"):
            credited += f"<p class=note>{_e(w['reason'])}{c}{_e(document['reason'])}</p>"
    marketplace = MARKETPLACE_NAMES.get(order.get("marketplace", ""), order.get("marketplace", ""))
    return f"""<!DOCTYPE html>
<html lang="{_e(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{_e(title_of(document))}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; font-size: 10pt; color: #111; margin: 2em auto; max-width: 48em; }}
h1 {{ font-size: 16pt; margin: 0 0 .2em 0; }}
.parties {{ display: flex; justify-content: space-between; gap: 2em; margin: 1.5em 0; }}
.parties div {{ flex: 1; }}
table {{ width: 100%; border-collapse: collapse; margin: 1em 0; }}
th, td {{ border-bottom: 1px solid #ccc; padding: .3em .4em; text-align: left; vertical-align: top; }}
th {{ background: #f0f0f0; }}
.n {{ text-align: right; white-space: nowrap; }}
.totals {{ width: 50%; margin-left: 50%; }}
.totals td {{ border: none; }}
.grand td {{ font-weight: bold; border-top: 2px solid #111; }}
.note, .header, .footer {{ color: #333; }}
.footer {{ margin-top: 2em; font-size: 8.5pt; }}
</style>
</head>
<body>
<div class="header">{sanitize_html(document.get("header_html", ""))}</div>
<h1>{_e(title_of(document))}</h1>
<p>{_e(w["date"])}{c}{_e(format_date(document["issued_at"], lang))}<br>
{_e(w["order"])} {_e(order["marketplace_order_id"])} ({_e(marketplace)}), {_e(w["purchased"])} {_e(format_date(order["purchased_at"], lang))}</p>
{credited}
<div class="parties">
<div><strong>{_e(w["seller"])}</strong><br>{_e(seller["name"])}<br>{_multiline(seller.get("address"))}{"<br>" + "<br>".join(seller_ids) if seller_ids else ""}</div>
<div><strong>{_e(w["buyer"])}</strong><br>{_e(buyer.get("name"))}<br>{_multiline(buyer.get("address"))}</div>
</div>
<table>
<thead><tr><th>{_e(w["description"])}</th><th class=n>{_e(w["quantity"])}</th><th class=n>{_e(w["unit"])}</th><th class=n>{_e(w["rate"])}</th><th class=n>{_e(w["net"])}</th><th class=n>{_e(w["gross"])}</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<table>
<thead><tr><th>{_e(w["rates"])}</th><th class=n>{_e(w["base"])}</th><th class=n>{_e(w["vat_amount"])}</th><th class=n>{_e(w["gross"])}</th></tr></thead>
<tbody>
{rates}
</tbody>
</table>
<table class="totals">
<tr><td>{_e(w["total_net"])}</td><td class=n>{m(document["total_net"])}</td></tr>
<tr><td>{_e(w["total_vat"])}</td><td class=n>{m(document["total_vat"])}</td></tr>
<tr class="grand"><td>{_e(w["total"])}</td><td class=n>{m(document["total"])}</td></tr>
</table>
<p class="note">{_e(w["paid"].format(marketplace=marketplace))}</p>
<div class="footer">{sanitize_html(document.get("footer_html", ""))}</div>
</body>
</html>
"""


# ---------------------------------------------------------------------- text (the console's view)


def render_text(document: dict[str, Any], width: int = 76) -> str:
    """The invoice as plain text lines for a terminal: what the PDF says, without the layout."""
    lang, cur = document["language"], document["currency"]
    w = labels(lang)
    c = colon(lang)
    order, seller, buyer = document["order"], document["seller"], document["buyer"]
    marketplace = MARKETPLACE_NAMES.get(order.get("marketplace", ""), order.get("marketplace", ""))
    out = [
        title_of(document),
        f"{w['date']}{c}{format_date(document['issued_at'], lang)}  ·  {w['order']} {order['marketplace_order_id']} ({marketplace})",
    ]
    if document.get("credited"):
        credited = document["credited"]
        out.append(w["credits"].format(number=credited["number"], date=format_date(credited["issued_at"], lang)))
        if document.get("reason"):
            out.append(f"{w['reason']}{c}{document['reason']}")
    out.append(f"{w['seller']}{c}{seller['name']}, {' '.join((seller.get('address') or '').split())}")
    out.append(f"{w['buyer']}{c}{buyer.get('name') or ''}, {' '.join((buyer.get('address') or '').split())}")
    out.append("")
    amount = 12
    label_width = max(10, width - 2 * amount - 12)
    for line in document["lines"]:
        label = line_label(line, lang)
        text = f"{line['quantity']} × {label}"
        out.append(
            f"{text[:label_width]:<{label_width}} {format_rate(line['rate'], lang):>8} "
            f"{format_money(line['net'], cur, lang):>{amount}} {format_money(line['gross'], cur, lang):>{amount}}"
        )
    out.append("")
    for rate in document["rates"]:
        out.append(
            f"{w['rate']} {format_rate(rate['rate'], lang)}{c}{w['base']} {format_money(rate['net'], cur, lang)}, "
            f"{w['vat_amount']} {format_money(rate['vat'], cur, lang)}"
        )
    out.append(
        f"{w['total_net']} {format_money(document['total_net'], cur, lang)}  ·  {w['total_vat']} "
        f"{format_money(document['total_vat'], cur, lang)}  ·  {w['total']} {format_money(document['total'], cur, lang)}"
    )
    return "\n".join(line.replace("\u00a0", " ") for line in out)


# ---------------------------------------------------------------------- PDF


def pdf_text(value: Any) -> str:
    """``value`` in characters the core fonts can print (Windows-1252); others lose accents or become ?."""
    text = "" if value is None else str(value)
    out = []
    for char in text:
        try:
            char.encode("cp1252")
            out.append(char)
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            try:
                base.encode("cp1252")
                out.append(base or "?")
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)


def render_pdf(document: dict[str, Any]) -> bytes:
    """The invoice as an A4 PDF; the same document always gives the same bytes."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    lang, cur = document["language"], document["currency"]
    w = labels(lang)

    def m(value: Any) -> str:
        return pdf_text(format_money(value, cur, lang))

    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    issued = datetime.fromisoformat(document["issued_at"])
    pdf.set_creation_date(issued)
    pdf.set_title(pdf_text(title_of(document)))
    pdf.set_author(pdf_text(document["seller"]["name"]))
    pdf.set_creator("shelfdesk")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(16, 14, 16)
    pdf.add_page()
    pdf.set_font("helvetica", size=9)
    width = pdf.epw

    for line in html_to_lines(sanitize_html(document.get("header_html", ""))):
        pdf.multi_cell(width, 4.5, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 15)
    pdf.cell(width, 8, pdf_text(title_of(document)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    order = document["order"]
    marketplace = MARKETPLACE_NAMES.get(order.get("marketplace", ""), order.get("marketplace", ""))
    c = colon(lang)
    pdf.cell(width, 5, pdf_text(f"{w['date']}{c}{format_date(document['issued_at'], lang)}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        width,
        5,
        pdf_text(
            f"{w['order']} {order['marketplace_order_id']} ({marketplace}), {w['purchased']} {format_date(order['purchased_at'], lang)}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if document.get("credited"):
        credited = document["credited"]
        pdf.multi_cell(
            width,
            5,
            pdf_text(w["credits"].format(number=credited["number"], date=format_date(credited["issued_at"], lang))),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        if document.get("reason"):
            pdf.multi_cell(width, 5, pdf_text(f"{w['reason']}{c}{document['reason']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    seller, buyer = document["seller"], document["buyer"]
    seller_lines = [seller["name"], *(seller.get("address") or "").splitlines()]
    if seller.get("vat_number"):
        seller_lines.append(f"{w['vat_number']}{c}{seller['vat_number']}")
    if seller.get("registration"):
        seller_lines.append(f"{w['registration']}{c}{seller['registration']}")
    buyer_lines = [buyer.get("name") or "", *(buyer.get("address") or "").splitlines()]
    top = pdf.get_y()
    half = width / 2
    for column, (title, body) in enumerate(((w["seller"], seller_lines), (w["buyer"], buyer_lines))):
        pdf.set_xy(pdf.l_margin + column * half, top)
        pdf.set_font("helvetica", "B", 9)
        pdf.cell(half - 4, 5, pdf_text(title), new_x="LEFT", new_y="NEXT")
        pdf.set_font("helvetica", size=9)
        for text in body:
            pdf.multi_cell(half - 4, 4.5, pdf_text(text), new_x="LEFT", new_y="NEXT")
        if column == 0:
            bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin, max(bottom, pdf.get_y()) + 4)

    heading = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    with pdf.table(
        col_widths=(70, 12, 26, 14, 28, 28),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=heading,
        line_height=5,
        padding=1.2,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        table.row([pdf_text(w[k]) for k in ("description", "quantity", "unit", "rate", "net", "gross")])
        for line in document["lines"]:
            label = line_label(line, lang) + (f"\n{w['sku']} {line['sku']}" if line.get("sku") else "")
            table.row(
                [
                    pdf_text(label),
                    str(line["quantity"]),
                    m(line["unit_gross"]),
                    pdf_text(format_rate(line["rate"], lang)),
                    m(line["net"]),
                    m(line["gross"]),
                ]
            )
    pdf.ln(3)
    with pdf.table(
        col_widths=(40, 30, 30, 30),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=heading,
        line_height=5,
        padding=1.2,
        borders_layout="HORIZONTAL_LINES",
        width=width * 0.75,
        align="LEFT",
    ) as table:
        table.row([pdf_text(w[k]) for k in ("rates", "base", "vat_amount", "gross")])
        for rate in document["rates"]:
            table.row([pdf_text(format_rate(rate["rate"], lang)), m(rate["net"]), m(rate["vat"]), m(rate["gross"])])
    pdf.ln(3)
    for key, bold in (("total_net", False), ("total_vat", False), ("total", True)):
        pdf.set_font("helvetica", "B" if bold else "", 10 if bold else 9)
        pdf.set_x(pdf.l_margin + width * 0.5)
        pdf.cell(width * 0.3, 6, pdf_text(w[key]))
        pdf.cell(width * 0.2, 6, m(document[key]), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    pdf.ln(3)
    pdf.cell(width, 5, pdf_text(w["paid"].format(marketplace=marketplace)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", size=8)
    for line in html_to_lines(sanitize_html(document.get("footer_html", ""))):
        pdf.multi_cell(width, 4, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
