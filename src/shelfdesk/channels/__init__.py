"""Marketplace connectors: one contract (:mod:`.base`), one connector per marketplace.

Use :func:`shelfdesk.channels.registry.get_connector`; never import a
marketplace's module from a service.
"""
