"""Small reusable widgets of the console (status bar, navigation bar, filter bar, empty state)."""
