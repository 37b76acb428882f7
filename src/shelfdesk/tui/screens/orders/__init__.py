"""Orders: the list, one order, shipping and bulk actions, failed actions."""
