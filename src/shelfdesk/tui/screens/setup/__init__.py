"""Setting a shop up: stores, channels, catalog imports, mappings, and the product browser."""
