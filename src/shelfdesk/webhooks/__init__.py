"""Signed push notifications of order and publication events to the merchant's own systems.

:mod:`.subscriptions` manages receivers (URL, event types, secret, pause);
:mod:`.events` captures events from the order history and finished
publications into a persistent table; :mod:`.delivery` owns the queue
(at-least-once, in order per order, retried with back-off on the injected
clock, paused after repeated failures) and its log; :mod:`.signing` is the
HMAC-SHA256 scheme receivers verify. Nothing here imports Textual.
"""
