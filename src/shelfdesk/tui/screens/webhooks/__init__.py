"""Webhook subscriptions, their deliveries and log."""
