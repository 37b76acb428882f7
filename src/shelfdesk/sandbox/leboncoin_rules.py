"""Leboncoin's rules as the sandbox enforces them (an INVENTED API shape, see ``leboncoin.py``).

What is real [C]: pro ads in five universes (fashion, home, leisure,
multimedia, family) for second-hand, refurbished or new goods with one of seven
reasons; a commission with secure payment, insertion fees otherwise; the seller
confirms availability within 3 days of payment, then confirms shipping (72 h),
else the order is cancelled and the buyer refunded. Everything else here —
category ids, mandatory attributes, bounds, codes, the French messages — is
ours [I], kept consistent with the connector.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from shelfdesk.sandbox.app import ApiError, iso
from shelfdesk.sandbox.inputs import as_decimal, as_int

CONDITIONS = ("used", "refurbished", "new")
NEW_REASONS = ("liquidation", "clearance", "defective", "exhibition_model", "craftsmanship", "customer_return", "off_label")

#: Category id prefix -> mandatory attributes of the leaves under it (the longest prefix wins) [I].
MANDATORY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "fashion.clothing": ("brand", "size"),
    "fashion.shoes": ("brand", "size"),
    "fashion.watches": ("brand",),
    "home.appliances": ("brand",),
    "leisure.instruments": ("brand",),
    "multimedia.phones.smartphones": ("brand", "model", "storage"),
    "multimedia.phones.tablets": ("brand", "model", "storage"),
    "multimedia.phones.watches": ("brand", "model"),
    "multimedia.computers.laptops": ("brand", "model"),
    "multimedia.computers.desktops": ("brand", "model"),
    "multimedia.consoles": ("brand", "model"),
    "multimedia.image_sound": ("brand",),
    "family.baby_clothing": ("size",),
}


def _leaves(node: dict[str, Any]) -> list[str]:
    children = node.get("children") or []
    return [str(node["id"])] if node.get("leaf") else [leaf for child in children for leaf in _leaves(child)]


def _load_categories() -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    """Leaf ids (with their mandatory attributes) and all ids of the tree shelfdesk ships for Leboncoin.

    The shipped tree is what the marketplace has, so the sandbox reads the same
    data file (package data, not the catalog code: the sandbox stands in for
    the remote service) and accepts leaves only, as a marketplace does.
    """
    import json
    from importlib import resources

    text = resources.files("shelfdesk").joinpath("catalog", "trees", "leboncoin.json").read_text("utf-8")
    root = json.loads(text)["root"]

    def ids(node: dict[str, Any]) -> list[str]:
        return [str(node["id"]), *(i for child in node.get("children") or [] for i in ids(child))]

    leaves = _leaves(root)
    mandatory = {
        leaf: next(
            (MANDATORY_ATTRIBUTES[p] for p in sorted(MANDATORY_ATTRIBUTES, key=len, reverse=True) if leaf == p or leaf.startswith(p + ".")),
            (),
        )
        for leaf in leaves
    }
    return mandatory, frozenset(ids(root)) - {str(root["id"])}


#: leaf category id -> mandatory attributes; BRANCHES are ids that exist but are not leaves.
CATEGORIES, _ALL_IDS = _load_categories()
BRANCHES = _ALL_IDS - set(CATEGORIES)
COMMISSION_RATE = Decimal("0.08")  # [I] with secure payment
INSERTION_FEE = Decimal("2.99")  # [I] without secure payment
PRICE_MIN, PRICE_MAX = Decimal("1.00"), Decimal("50000.00")  # [I]
CANCEL_REASONS = ("out_of_stock", "item_damaged", "buyer_request", "other")

AVAILABILITY_DELAY = timedelta(days=3)  # [C]
SHIPPING_DELAY = timedelta(hours=72)  # [C] (one help article says 6 days; we follow 72 h)
DELIVERY_DELAY = timedelta(days=4)  # [I] when the simulated buyer confirms reception


def _err(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _price(value: Any, errors: list[dict[str, str]]) -> Decimal | None:
    price = as_decimal(value)  # finite and bounded: "NaN" could not be compared with the bounds
    if price is None:
        errors.append(_err("invalid_price", f"Le prix « {str(value)[:40]} » n'est pas un nombre"))
        return None
    if not PRICE_MIN <= price <= PRICE_MAX:
        errors.append(_err("price_out_of_range", f"Le prix doit être compris entre {PRICE_MIN} € et {PRICE_MAX} €"))
    return price


def _quantity(value: Any, errors: list[dict[str, str]]) -> int | None:
    qty = as_int(value)
    if qty is None:
        errors.append(_err("invalid_quantity", f"La quantité « {str(value)[:40]} » n'est pas un entier"))
        return None
    if qty < 0:
        errors.append(_err("invalid_quantity", "La quantité ne peut pas être négative"))
    return qty


def _text(item: dict[str, Any], name: str, errors: list[dict[str, str]], longest: int = 5000) -> str:
    """The text field ``name`` stripped ("" when absent); a number is read as its text, anything else is an error."""
    value = item.get(name)
    if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float)) or len(str(value)) > longest:
        if value is not None:
            errors.append(_err(f"invalid_{name}", f"Le champ {name} est un texte d'au plus {longest} caractères"))
        return ""
    return str(value).strip()


def _with_sku(item: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Every line names its SKU; matching is on SKU only (no EAN matching)."""
    errors: list[dict[str, str]] = []
    sku = _text(item, "sku", errors, 100)
    return {"sku": sku}, errors or ([] if sku else [_err("missing_sku", "Le champ sku est obligatoire")])


def check_product(item: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """One line of a products feed: typed values and every error of the line."""
    if not isinstance(item, dict):
        return {}, [_err("invalid_item", "Chaque ligne doit être un objet JSON")]
    values, errors = _with_sku(item)
    title = _text(item, "title", errors)
    if not 5 <= len(title) <= 100:
        errors.append(_err("invalid_title", "Le titre doit contenir entre 5 et 100 caractères"))
    description = _text(item, "description", errors)
    if len(description) < 20:
        errors.append(_err("invalid_description", "La description doit contenir au moins 20 caractères"))
    category = _text(item, "category", errors, 200)
    if category in BRANCHES:
        errors.append(
            _err("unknown_category", f"La catégorie « {category} » n'est pas une catégorie finale : choisissez une sous-catégorie")
        )
    elif category not in CATEGORIES:
        errors.append(_err("unknown_category", f"La catégorie « {category} » n'existe pas"))
    condition = _text(item, "condition", errors, 50)
    reason = _text(item, "new_reason", errors, 50) or None
    if condition not in CONDITIONS:
        errors.append(_err("invalid_condition", "L'état doit être used, refurbished ou new"))
    elif condition == "new" and reason not in NEW_REASONS:
        errors.append(_err("new_not_eligible", "Un produit neuf n'est accepté qu'avec un motif : " + ", ".join(NEW_REASONS)))
    elif condition != "new" and reason:
        errors.append(_err("unexpected_new_reason", "Le motif n'est accepté que pour un produit neuf"))
    attributes = item.get("attributes") or {}
    if not isinstance(attributes, dict) or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in attributes.values()
    ):
        attributes = {}
        errors.append(_err("invalid_attributes", "Les attributs doivent être un objet de textes"))
    secure = item.get("secure_payment", True)
    if not isinstance(secure, bool):
        errors.append(_err("invalid_secure_payment", "secure_payment vaut true ou false"))
    for name in CATEGORIES.get(category, ()):
        if not str(attributes.get(name) or "").strip():
            errors.append(_err("missing_attribute", f"L'attribut « {name} » est obligatoire pour la catégorie {category}"))
    price = _price(item.get("price"), errors) if item.get("price") not in (None, "") else None
    if price is None and not any(e["code"] == "invalid_price" for e in errors):
        errors.append(_err("missing_price", "Le prix est obligatoire"))
    qty = _quantity(item.get("quantity", 1), errors)
    values.update(
        title=title,
        description=description,
        category=category,
        condition=condition,
        new_reason=reason,
        attributes={str(k): str(v) for k, v in attributes.items()},
        price=price,
        quantity=qty,
        secure_payment=secure is not False,
    )
    return values, errors


def check_offer(item: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    if not isinstance(item, dict):
        return {}, [_err("invalid_item", "Chaque ligne doit être un objet JSON")]
    values, errors = _with_sku(item)
    if item.get("price") not in (None, ""):
        values["price"] = _price(item["price"], errors)
    if item.get("quantity") not in (None, ""):
        values["quantity"] = _quantity(item["quantity"], errors)
    if "price" not in values and "quantity" not in values:
        errors.append(_err("empty_offer", "Une offre doit donner un prix ou une quantité"))
    return values, errors


def fees(secure_payment: bool, price: Decimal) -> dict[str, str]:
    if secure_payment:
        return {"type": "commission", "rate": str(COMMISSION_RATE), "amount": f"{price * COMMISSION_RATE:.2f}"}
    return {"type": "insertion", "amount": f"{INSERTION_FEE:.2f}"}


# ---------------------------------------------------------------------- orders


def refuse(order: dict[str, Any], doing: str) -> ApiError:
    return ApiError(409, f"La commande {order['id']} est au statut « {order['state']} » : impossible de {doing}", "invalid_state")


def confirm_availability(order: dict[str, Any], now: datetime) -> None:
    if order["state"] != "paid":
        raise refuse(order, "confirmer la disponibilité")
    order.update(
        state="awaiting_shipment", availability_confirmed_at=iso(now), shipping_deadline=iso(now + SHIPPING_DELAY), updated_at=iso(now)
    )


def confirm_shipping(order: dict[str, Any], body: dict[str, Any], now: datetime) -> None:
    unknown = set(body) - {"carrier"}
    if unknown:
        names = ", ".join(name[:40] for name in sorted(unknown)[:5])
        raise ApiError(400, f"Champ(s) non accepté(s) : {names} (le suivi n'est pas transmis par l'API)", "unknown_fields")
    carrier = body.get("carrier")
    if carrier is not None and not (isinstance(carrier, str) and 0 < len(carrier) <= 100):
        raise ApiError(400, "Le transporteur est un texte de 1 à 100 caractères", "invalid_carrier")
    if order["state"] != "awaiting_shipment":
        raise refuse(order, "confirmer l'expédition")
    order.update(state="shipped", shipped_at=iso(now), carrier=body.get("carrier"), updated_at=iso(now))


def cancel(order: dict[str, Any], body: dict[str, Any], now: datetime) -> None:
    reason = body.get("reason")
    if reason not in CANCEL_REASONS:
        raise ApiError(400, "Le motif d'annulation doit être : " + ", ".join(CANCEL_REASONS), "invalid_reason")
    if order["state"] not in ("paid", "awaiting_shipment", "shipped"):  # [C] until the payout starts (at delivery [I])
        raise refuse(order, "annuler")
    close_with_refund(order, reason, now)


def close_with_refund(order: dict[str, Any], reason: str, when: datetime) -> None:
    order.update(
        state="cancelled",
        cancelled_at=iso(when),
        cancel_reason=reason,
        updated_at=iso(when),
        refund={"status": "refunded", "amount": order["total"], "at": iso(when)},
    )
