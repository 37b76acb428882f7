"""Database layer: engine, models, migrations and the dialect helpers."""
