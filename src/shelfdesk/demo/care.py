"""The demo's after-sales desk: saved replies, the first Care harvest, and invoices for the orders under a case.

The cases themselves are the Back Market sandbox's (:class:`shelfdesk.demo.live.DemoCare`
opens them while the demo's month of orders is written); here the workspace
harvests them like any account would, keeps a few saved replies in French
and English, and invoices the orders the cases are about, as a seller
invoices what it shipped: so a refund made from the demo issues its credit
note against a real invoice (Invoices, ``i`` on the case).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

#: (name, language, text) of the demo's saved replies.
SAVED_REPLIES = (
    (
        "Accusé de réception",
        "fr",
        "Bonjour, nous avons bien reçu votre demande et nous revenons vers vous sous 24 h. Bien cordialement, le service client.",
    ),
    (
        "Retour sous garantie",
        "fr",
        "Bonjour, nous sommes désolés. Renvoyez-nous l'appareil avec l'étiquette de retour jointe : nous le réparons ou le "
        "remplaçons dès réception. Bien cordialement.",
    ),
    (
        "Geste commercial",
        "fr",
        "Bonjour, pour nous excuser de la gêne occasionnée, nous vous remboursons une partie du prix. Le remboursement "
        "apparaîtra sous quelques jours. Bien cordialement.",
    ),
    ("Acknowledge", "en", "Hello, we received your request and will come back to you within 24 hours. Kind regards, customer care."),
)


def add_saved_replies(ctx: AppContext) -> int:
    from shelfdesk.services.care import save_reply

    for name, language, body in SAVED_REPLIES:
        save_reply(ctx, name, language, body)
    return len(SAVED_REPLIES)


def harvest_demo_cases(ctx: AppContext) -> int:
    """The first Care harvest (the sandboxes run); returns how many cases came in."""
    from shelfdesk.services.care import harvest_care

    results = harvest_care(ctx, force=True)
    failed = [r.error for r in results if r.error]
    if failed:
        raise RuntimeError(f"the demo's Care harvest failed: {'; '.join(failed)}")
    return sum(r.cases_new for r in results)


def invoice_case_orders(ctx: AppContext) -> int:
    """Invoice the orders under a case (once invoicing is set up); returns how many were invoiced.

    Not uploaded: the demo's month is history, its invoices were sent long
    ago; what the console does next (a credit note) travels as usual.
    """
    from shelfdesk.invoices.service import InvoiceError, generate_invoice
    from shelfdesk.services.care import list_cases

    issued = 0
    for case in list_cases(ctx):
        if case.order_id is None:
            continue
        try:
            generate_invoice(ctx, f"#{case.order_id}", upload=False)
        except InvoiceError:
            continue  # already invoiced (two cases on one order), or not invoiceable
        issued += 1
    return issued
