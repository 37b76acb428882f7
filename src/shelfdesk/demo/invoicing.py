"""Invoice settings of the demo stores, so invoicing works from the first minute of the demo.

The identities are invented (example.org addresses, no real company); numbering
starts at 1 with one prefix per store, and uploads to the sandbox's Back Market
are on, so an issued invoice travels through the outbox like a real one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

DEMO_SETTINGS = {
    "Refurb Paris": {
        "language": "fr",
        "prefix": "FR-",
        "product_vat_rate": "20",
        "shipping_vat_rate": "20",
        "seller_name": "Refurb Demo SAS",
        "seller_address": "12 rue de l'Exemple\n75011 Paris\nFrance",
        "seller_vat_number": "FR00999999999",
        "seller_registration": "RCS Paris 999 999 999 (demo)",
        "footer_html": "<p>Garantie commerciale de 12 mois. Pénalités de retard : trois fois le taux d'intérêt légal; "
        "indemnité forfaitaire pour frais de recouvrement : 40 €.</p>",
    },
    "Refurb Madrid": {
        "language": "en",
        "prefix": "ES-",
        "product_vat_rate": "21",
        "shipping_vat_rate": "21",
        "seller_name": "Refurb Demo SL",
        "seller_address": "Calle Ejemplo 1\n28013 Madrid\nSpain",
        "seller_vat_number": "ESX9999999X",
        "seller_registration": "Registro Mercantil de Madrid (demo)",
        "footer_html": "<p>12-month commercial warranty.</p>",
    },
}


def set_up_demo_invoicing(ctx: AppContext) -> int:
    """Write the demo stores' invoice settings; returns how many stores were configured."""
    from shelfdesk.invoices.settings import update_settings

    for store, settings in DEMO_SETTINGS.items():
        update_settings(ctx, store, dict(settings))
    return len(DEMO_SETTINGS)
