"""Order management: harvest, queries, action validation, the outbox sender, bulk work and export.

Services here take an :class:`~shelfdesk.context.AppContext`, speak to
marketplaces only through :mod:`shelfdesk.channels` connectors, write only
through ``ctx.write_session()`` (so ``--read-only`` is enforced in one place)
and return plain dataclasses; the console and the CLI never see a session.
"""
