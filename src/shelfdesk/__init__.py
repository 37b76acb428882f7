"""shelfdesk: a terminal operations console for marketplace sellers."""

__version__ = "0.1.0"
