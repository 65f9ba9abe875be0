"""The data contract as data: which tables the workbench reads and what each must and may hold.

Every table is a pandas DataFrame. Ids are strings, timestamps are
timezone-aware UTC, extra columns are kept and ignored. The checks that hold
a table to its contract are in :mod:`workbench.contracts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CANCELLED_STATUSES",
    "CHANNELS",
    "CONSENT_STATUSES",
    "CONTRACTS",
    "EMAIL_PATTERN",
    "EVENT_ALIASES",
    "FORMULA_START",
    "KNOWN_EVENTS",
    "QUALITY_COLUMNS",
    "TABLES",
    "WHITESPACE",
    "TableContract",
]

#: Event names the workbench reads (profiles, intent segments, journey triggers and goals).
KNOWN_EVENTS = ("site_visit", "product_view", "add_to_cart", "checkout_started", "support_ticket", "order_placed")
#: Names other tools give the same events (Klaviyo metrics, Segment's e-commerce spec, Shopify web pixels), after
#: lower-casing and joining words with ``_``: events are renamed to the workbench's names on load.
EVENT_ALIASES = {
    "active_on_site": "site_visit",
    "page_viewed": "site_visit",
    "page_view": "site_visit",
    "session_started": "site_visit",
    "viewed_product": "product_view",
    "product_viewed": "product_view",
    "added_to_cart": "add_to_cart",
    "product_added": "add_to_cart",
    "product_added_to_cart": "add_to_cart",
    "started_checkout": "checkout_started",
    "checkout_start": "checkout_started",
    "placed_order": "order_placed",
    "order_completed": "order_placed",
    "checkout_completed": "order_placed",
    "ticket_created": "support_ticket",
    "support_ticket_created": "support_ticket",
}

#: How a text cell starts when a spreadsheet would run it as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: The tables of a dataset, in the order they are read and listed.
TABLES = ("customers", "orders", "events", "consents", "messages")
#: Columns of ``Dataset.quality``: one row per data-quality check.
QUALITY_COLUMNS = ["table", "column", "check", "rows", "share", "examples", "action"]
CHANNELS = ("email", "sms")
#: An address a sender can use: something@domain.tld (a syntax check, not a deliverability check).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
#: Every character whose ``str.isspace()`` is true: what ``\s`` matches in Python and ``str.strip()`` removes.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
CONSENT_STATUSES = ("subscribed", "unsubscribed")
#: Order statuses that make an order a cancellation or return (so is a negative amount), case-insensitive.
CANCELLED_STATUSES = ("cancelled", "canceled", "returned", "refunded", "void")


@dataclass(frozen=True)
class TableContract:
    """What one table must and may hold."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    key: str | None = None  # unique id column, if any
    ids: tuple[str, ...] = ()  # columns held as strings
    timestamps: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    required_table: bool = False

    @property
    def example_column(self) -> str:
        return self.key or "customer_id"


CONTRACTS: dict[str, TableContract] = {
    "customers": TableContract(
        name="customers",
        required=("customer_id",),
        optional=(
            "email",
            "phone",
            "first_name",
            "country",
            "region",
            "timezone",
            "created_at",
            "loyalty_tier",
            "preferred_channel",
            "locale",
        ),
        key="customer_id",
        ids=("customer_id",),
        timestamps=("created_at",),
    ),
    "orders": TableContract(
        name="orders",
        required=("order_id", "customer_id", "ordered_at", "amount"),
        optional=("currency", "status"),
        key="order_id",
        ids=("order_id", "customer_id"),
        timestamps=("ordered_at",),
        numeric=("amount",),
        required_table=True,
    ),
    "events": TableContract(
        name="events",
        required=("customer_id", "occurred_at", "event"),
        optional=("product_id", "url", "properties"),
        ids=("customer_id",),
        timestamps=("occurred_at",),
    ),
    "consents": TableContract(
        name="consents",
        required=("customer_id", "channel", "status", "recorded_at"),
        optional=("source", "keyword"),
        ids=("customer_id",),
        timestamps=("recorded_at",),
        enums={"channel": CHANNELS, "status": CONSENT_STATUSES},
    ),
    "messages": TableContract(
        name="messages",
        required=("message_id", "customer_id", "channel", "sent_at"),
        optional=(
            "journey_id",
            "step_id",
            "variant",
            "delivered_at",
            "opened_at",
            "clicked_at",
            "converted_at",
            "revenue",
            "unsubscribed_at",
            "bounced",
        ),
        key="message_id",
        ids=("message_id", "customer_id"),
        timestamps=(
            "sent_at",
            "delivered_at",
            "opened_at",
            "clicked_at",
            "converted_at",
            "unsubscribed_at",
        ),
        numeric=("revenue",),
        enums={"channel": CHANNELS},
    ),
}
