"""Screens of the console, one module each, with a ``.tcss`` beside each module."""
