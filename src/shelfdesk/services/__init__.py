"""Cross-cutting services the console, the CLI and the worker share (alerts, status)."""
