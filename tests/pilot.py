"""Shared Pilot helpers for every console test (orders, publishing, set-up, jobs, walks).

Console tests wait for the app to be idle the way an operator waits for the
screen to stop changing: every worker finished, then a repaint. A worker's
message often starts another worker (a save posts a message whose handler
reloads the table), so ``settle`` waits a few rounds; ``settle_until`` keeps
waiting until a condition holds, for chains that are longer on a loaded
machine. No sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


async def settle(pilot: Any, rounds: int = 3) -> None:
    """Wait for every worker, then for the repaint; ``rounds`` times, since one can start another."""
    from textual.worker import WorkerCancelled

    for _ in range(rounds):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass  # an exclusive load superseded by a newer one (a reload after a change): normal, wait again
        await pilot.pause()


async def settle_until(pilot: Any, condition: Callable[[], object], rounds: int = 10) -> bool:
    """Settle until ``condition()`` holds (or ``rounds`` settles went by); returns whether it holds."""
    for _ in range(rounds):
        await settle(pilot)
        if condition():
            return True
    return bool(condition())


def typed(text: str) -> list[str]:
    """Keys that type ``text`` (Pilot names the space bar "space")."""
    return ["space" if c == " " else c for c in text]


async def type_text(pilot: Any, text: str) -> None:
    """Type ``text`` key by key into the focused widget."""
    await pilot.press(*typed(text))


def screen_text(app: Any, size: tuple[int, int] = (80, 24)) -> str:
    """What the terminal shows, as plain text (what an operator reads), dialogs over their screen included."""
    import io

    from rich.console import Console

    console = Console(width=size[0], height=size[1], file=io.StringIO(), record=True, color_system=None, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()
