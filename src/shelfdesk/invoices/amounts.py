"""Invoice arithmetic in Decimal: amounts excluding tax and VAT from marketplace prices.

Marketplace prices are what the buyer paid, VAT included. For each VAT rate,
the amount excluding tax is computed once on the rate's total
(``net = round(gross / (1 + rate))``, half-up to the cent) and the VAT is the
difference, so each rate's VAT is exact and the invoice total equals the sum
the buyer paid, to the cent. That rate's net is then shared among its lines by
the largest-remainder method: every line's net is its exact value rounded down
or up (never more than a cent away), and the lines of a rate add up to exactly
the rate's net. Printed lines, per-rate totals and the grand total therefore
always agree, which is what an accountant checks first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LineInput:
    """One billed line: what the buyer paid per unit, VAT included, and the VAT rate in percent."""

    description: str
    quantity: int
    unit_gross: Decimal
    rate: Decimal
    sku: str | None = None
    kind: str = "product"  #: product, shipping or discount


@dataclass(frozen=True)
class LineAmounts:
    """A line with its amounts: gross (VAT included), net (excluding tax) and VAT."""

    description: str
    quantity: int
    unit_gross: Decimal
    rate: Decimal
    sku: str | None
    kind: str
    gross: Decimal
    net: Decimal
    vat: Decimal


@dataclass(frozen=True)
class RateTotal:
    rate: Decimal
    gross: Decimal
    net: Decimal
    vat: Decimal


@dataclass(frozen=True)
class InvoiceAmounts:
    lines: tuple[LineAmounts, ...]
    rates: tuple[RateTotal, ...]  #: one per VAT rate, highest rate first
    total_net: Decimal
    total_vat: Decimal
    total: Decimal


def money(value: Decimal | int | str) -> Decimal:
    """``value`` as an exact amount with two decimals; refuses anything with fractions of a cent."""
    amount = Decimal(value)
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValueError(f"{value!r} is not an amount in cents")
    return amount.quantize(CENT)


def net_of(gross: Decimal, rate: Decimal) -> Decimal:
    """Exact (unrounded) amount excluding tax of ``gross`` at ``rate`` percent."""
    return gross * HUNDRED / (HUNDRED + rate)


def compute(lines: Sequence[LineInput]) -> InvoiceAmounts:
    """Amounts of an invoice whose lines are priced VAT included.

    Raises ValueError for a negative quantity, a rate outside [0, 100) or a
    unit price with fractions of a cent: such input cannot be invoiced exactly.
    """
    gross_lines: list[Decimal] = []
    for line in lines:
        if line.quantity < 0:
            raise ValueError(f"{line.description}: quantity {line.quantity} is negative")
        if not (Decimal(0) <= line.rate < HUNDRED):
            raise ValueError(f"{line.description}: VAT rate {line.rate} % is not between 0 and 100")
        gross_lines.append(money(line.unit_gross) * line.quantity)

    by_rate: dict[Decimal, list[int]] = {}
    for index, line in enumerate(lines):
        by_rate.setdefault(Decimal(line.rate), []).append(index)

    nets: list[Decimal] = [ZERO] * len(lines)
    rates: list[RateTotal] = []
    for rate in sorted(by_rate, reverse=True):
        indexes = by_rate[rate]
        gross = sum((gross_lines[i] for i in indexes), ZERO)
        rate_net = net_of(gross, rate).quantize(CENT, rounding=ROUND_HALF_UP)
        _share(rate_net, rate, indexes, gross_lines, nets)
        rates.append(RateTotal(rate=rate, gross=gross, net=rate_net, vat=gross - rate_net))

    amounts = tuple(
        LineAmounts(
            description=line.description,
            quantity=line.quantity,
            unit_gross=money(line.unit_gross),
            rate=Decimal(line.rate),
            sku=line.sku,
            kind=line.kind,
            gross=gross_lines[i],
            net=nets[i],
            vat=gross_lines[i] - nets[i],
        )
        for i, line in enumerate(lines)
    )
    total_net = sum((r.net for r in rates), ZERO)
    total_vat = sum((r.vat for r in rates), ZERO)
    return InvoiceAmounts(amounts, tuple(rates), total_net, total_vat, total_net + total_vat)


def _share(rate_net: Decimal, rate: Decimal, indexes: list[int], gross_lines: list[Decimal], nets: list[Decimal]) -> None:
    """Split ``rate_net`` among the lines of one rate: floor every line, then hand out the missing
    cents to the largest remainders (ties to the earlier line)."""
    exact = {i: net_of(gross_lines[i], rate) for i in indexes}
    floors = {i: exact[i].quantize(CENT, rounding=ROUND_FLOOR) for i in indexes}
    missing = int((rate_net - sum(floors.values(), ZERO)) / CENT)
    order = sorted(indexes, key=lambda i: (-(exact[i] - floors[i]), i))
    for i in indexes:
        nets[i] = floors[i]
    for i in order[:missing]:
        nets[i] = floors[i] + CENT


def rate_key(rate: Decimal) -> str:
    """How a rate is written in stored breakdowns: four decimals, like the Percent column."""
    return f"{Decimal(rate):.4f}"
