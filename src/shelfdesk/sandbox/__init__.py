"""Loopback imitations of the marketplaces' APIs, for the demo and the tests.

Each sandbox is a Starlette app with its own state folder, clock, rate limits,
fault injection and request log, plus an admin API under ``/_sandbox/``.
:func:`shelfdesk.sandbox.server.start_sandboxes` runs both in-process.
"""
