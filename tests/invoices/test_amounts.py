"""Invoice arithmetic: per-line and per-rate rounding agree with each other and with what the buyer paid."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings, strategies as st

from shelfdesk.invoices.amounts import CENT, LineInput, compute, net_of

RATES = [Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1"), Decimal("0"), Decimal("19.6"), Decimal("8.5")]

line_strategy = st.builds(
    LineInput,
    description=st.just("item"),
    quantity=st.integers(min_value=0, max_value=12),
    unit_gross=st.integers(min_value=-5_000, max_value=500_000).map(lambda cents: Decimal(cents) / 100),
    rate=st.sampled_from(RATES),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(line_strategy, min_size=1, max_size=12))
def test_rates_lines_and_totals_always_agree(lines: list[LineInput]) -> None:
    amounts = compute(lines)
    paid = sum((l.unit_gross * l.quantity for l in lines), Decimal("0"))
    # The invoice total is exactly what the buyer paid, and net + VAT make it up.
    assert amounts.total == paid
    assert amounts.total_net + amounts.total_vat == amounts.total
    # Per rate: its VAT sums to the total VAT; its net is the rounded net of its gross.
    assert sum((r.vat for r in amounts.rates), Decimal(0)) == amounts.total_vat
    assert sum((r.net for r in amounts.rates), Decimal(0)) == amounts.total_net
    for rate in amounts.rates:
        mine = [l for l in amounts.lines if l.rate == rate.rate]
        assert sum((l.gross for l in mine), Decimal(0)) == rate.gross
        assert sum((l.net for l in mine), Decimal(0)) == rate.net  # printed lines add up to the rate's line
        assert sum((l.vat for l in mine), Decimal(0)) == rate.vat
        assert abs(rate.net - net_of(rate.gross, rate.rate)) <= CENT / 2
    for line in amounts.lines:
        # Each line is its exact net rounded down or up: never a cent or more away.
        assert abs(line.net - net_of(line.gross, line.rate)) < CENT
        assert line.net + line.vat == line.gross
        assert line.net == line.net.quantize(CENT) and line.vat == line.vat.quantize(CENT)


def test_known_example_rounds_per_rate_not_per_line() -> None:
    # Three lines of 0.10 at 20 %: each line's exact net is 0.0833…; rounding each line would
    # print 3 × 0.08 = 0.24, but the rate's net is round(0.30 / 1.2) = 0.25.
    amounts = compute([LineInput("a", 1, Decimal("0.10"), Decimal(20)) for _ in range(3)])
    assert amounts.total_net == Decimal("0.25") and amounts.total_vat == Decimal("0.05")
    assert sorted(l.net for l in amounts.lines) == [Decimal("0.08"), Decimal("0.08"), Decimal("0.09")]
    assert amounts.lines[0].net == Decimal("0.09")  # the tie goes to the earlier line


def test_two_rates_are_summarized_separately() -> None:
    amounts = compute(
        [
            LineInput("phone", 1, Decimal("329.90"), Decimal(20)),
            LineInput("book", 2, Decimal("10.55"), Decimal("5.5")),
            LineInput("shipping", 1, Decimal("4.90"), Decimal(20), kind="shipping"),
        ]
    )
    by_rate = {r.rate: r for r in amounts.rates}
    assert by_rate[Decimal(20)].net == Decimal("279.00") and by_rate[Decimal(20)].vat == Decimal("55.80")
    assert by_rate[Decimal("5.5")].net == Decimal("20.00") and by_rate[Decimal("5.5")].vat == Decimal("1.10")
    assert amounts.total == Decimal("355.90")
    assert [r.rate for r in amounts.rates] == [Decimal(20), Decimal("5.5")]


def test_inexact_input_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="cents"):
        compute([LineInput("x", 1, Decimal("1.005"), Decimal(20))])
    with pytest.raises(ValueError, match="between 0 and 100"):
        compute([LineInput("x", 1, Decimal("1.00"), Decimal(100))])
    with pytest.raises(ValueError, match="negative"):
        compute([LineInput("x", -1, Decimal("1.00"), Decimal(20))])
