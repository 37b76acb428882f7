"""Invoices and credit notes: the list, one invoice, issuing."""
