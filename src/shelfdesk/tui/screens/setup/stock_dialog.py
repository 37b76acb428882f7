"""Setting a product's stock from its line (publication items, a SKU's history): ``s``.

The same service as ``shelfdesk stock set`` (audit-logged; the stock pusher
sends the new quantity within seconds). Loading and saving run in thread
workers; the question shows the current stock already typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def ask_stock(screen: Any, sku: str, on_done: Callable[[], None] | None = None) -> None:
    """Ask for ``sku``'s new stock (in the first store that has it) and set it."""

    def load() -> None:
        from shelfdesk.services.stock import stock_views_for_sku

        views = stock_views_for_sku(screen.ctx, sku)
        screen.app.call_from_thread(_ask, screen, sku, views, on_done)

    screen.run_worker(load, thread=True, group="stock-set", exclusive=True, exit_on_error=False, description="Reading the stock")


def _ask(screen: Any, sku: str, views: list[Any], on_done: Callable[[], None] | None) -> None:
    from shelfdesk.tui.screens.orders.export_path_prompt import OrderPathPrompt

    if not views:
        screen.notify(f"{sku} is in no store's catalog: its stock cannot be set.", title="Stock", severity="warning")
        return
    view = views[0]

    def done(answer: str | None) -> None:
        if answer is None:
            return

        def save() -> None:
            from shelfdesk.catalog.errors import SetupError
            from shelfdesk.services.stock import StockLine, parse_quantity, set_stock

            try:
                result = set_stock(screen.ctx, view.store_id, [StockLine(sku, parse_quantity(answer, sku))])
            except SetupError as exc:
                screen.app.call_from_thread(screen.notify, str(exc), title="Stock", severity="error", timeout=10)
                return
            text = (
                f"{sku}: stock {answer.strip()}; the stock pusher sends it within seconds."
                if result.changed
                else f"{sku}: stock unchanged ({answer.strip()})."
            )
            screen.app.call_from_thread(screen.notify, text, title="Stock")
            if on_done is not None:
                screen.app.call_from_thread(on_done)

        screen.run_worker(save, thread=True, group="stock-save", exclusive=True, exit_on_error=False, description="Setting the stock")

    screen.app.push_screen(
        OrderPathPrompt(
            f"Stock of {sku} in {view.store_name} (held by open orders: {view.held})",
            str(view.stock),
            "Enter sets it, for every channel · Esc cancels",
        ),
        done,
    )
