"""Catalog service: stores' products, imports, mappings and exclusions."""
