"""Publishing: a ready channel's catalog becomes listings and offers on its marketplace.

The engine (:mod:`.engine`) plans a run from the catalog, the channel's
mappings and exclusions, the stock policy and what the marketplace lists
(:mod:`.plan`), sends it in batches within the marketplace's quota, follows
each batch to a per-item outcome, and keeps every outcome for triage
(:mod:`.triage`). A dry run computes the same plan and sends nothing. The
repricer (:mod:`.repricer`) follows the buybox between a minimum and a
default price. Nothing here imports Textual: the console and the CLI call
these functions and get plain dataclasses back.
"""
