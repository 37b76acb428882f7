"""A checkbox whose state reads without colour.

Textual's checkbox draws the same ``X`` on and off and tells them apart by
colour only; under an ANSI theme over SSH both looked ticked. Here off is an
empty box, so the state shows as text too.
"""

from __future__ import annotations

from textual.widgets import Checkbox


class StateCheckbox(Checkbox):
    """``▐X▌`` when on, ``▐ ▌`` when off."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual's ToggleButton reads this class attribute; a property makes it follow the value
        return "X" if self.value else " "
