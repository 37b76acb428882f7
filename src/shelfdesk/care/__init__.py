"""After-sales (Care): harvest of cases, their actions through the outbox, refunds, credit notes, returns.

The console and the CLI call :mod:`shelfdesk.services.care`, never these modules directly.
"""
