"""Every shelfdesk table, and the metadata migrations are checked against.

Importing this package registers all tables on :data:`metadata`.
"""

from shelfdesk.db.models.api import ApiIdempotency, ApiToken
from shelfdesk.db.models.audit import AuditLog
from shelfdesk.db.models.base import NAMING_CONVENTION, ShelfModel, metadata
from shelfdesk.db.models.catalog import CatalogImport, CategoryMapping, ColumnMapping, ExclusionRule, Product
from shelfdesk.db.models.catalog import CatalogImportRejection
from shelfdesk.db.models.deadlines import DeadlineWatch
from shelfdesk.db.models.invoices import Invoice, InvoiceSequence, InvoiceSettings
from shelfdesk.db.models.jobs import JobLease, JobRun, JobSchedule
from shelfdesk.db.models.orders import Order, OrderAction, OrderEvent, OrderLine
from shelfdesk.db.models.publishing import ChannelListing, Publication, PublicationItem, RepriceChange
from shelfdesk.db.models.stock import StockDirty, StoreFeed
from shelfdesk.db.models.stores import Channel, MarketplaceAccount, Store
from shelfdesk.db.models.webhooks import WebhookAttempt, WebhookCursor, WebhookDelivery, WebhookEvent, WebhookSubscription

__all__ = [
    "NAMING_CONVENTION",
    "ApiIdempotency",
    "ApiToken",
    "AuditLog",
    "CatalogImport",
    "CatalogImportRejection",
    "CategoryMapping",
    "Channel",
    "ChannelListing",
    "ColumnMapping",
    "DeadlineWatch",
    "ExclusionRule",
    "Invoice",
    "InvoiceSequence",
    "InvoiceSettings",
    "JobLease",
    "JobRun",
    "JobSchedule",
    "MarketplaceAccount",
    "Order",
    "OrderAction",
    "OrderEvent",
    "OrderLine",
    "Product",
    "Publication",
    "PublicationItem",
    "RepriceChange",
    "ShelfModel",
    "StockDirty",
    "Store",
    "StoreFeed",
    "WebhookAttempt",
    "WebhookCursor",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
    "metadata",
]
