"""The HTTP API for the merchant's own systems (ERP, shop, warehouse): orders, order actions, stock, health.

A thin layer over the same service functions as the console and the CLI:
``routes`` turns requests into service calls, ``guard`` checks every call
(bearer token, scope, body size, rate, Idempotency-Key), ``openapi`` builds
the OpenAPI document from the routes and the services' dataclasses, and
``server`` runs it under uvicorn. No business rule lives here.
"""

#: Where ``shelfdesk api serve`` listens unless told otherwise (loopback only).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
