"""A checkbox whose state reads without colour.

Textual's checkbox draws the same ``X`` on and off and tells them apart by
colour only; under an ANSI theme over SSH both looked ticked. Here off is an
empty box, so the state shows as text too.
"""

from __future__ import annotations

from textual.widgets import Checkbox


class StateCheckbox(Checkbox):
    """``▐X▌`` when on, ``▐ ▌`` when off."""

    @property  # type: ignore[override]
    def BUTTON_INNER(self) -> str:  # noqa: N802 - the name Textual's ToggleButton reads
        return "X" if self.value else " "
