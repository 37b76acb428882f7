"""Local invoicing of marketplace orders: settings, gapless numbering, amounts, documents, upload.

Layers: :mod:`.amounts` (pure Decimal arithmetic), :mod:`.numbering` (the
per-prefix sequence, inside the caller's transaction), :mod:`.render` (HTML
and PDF from a document dict), :mod:`.settings` (per-store settings and the
sanitizing of the merchant's HTML) and :mod:`.service` (what the CLI and the
console call). Nothing here imports Textual.
"""
