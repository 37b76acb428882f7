"""Publications: the runs, their items, errors by cause, plans, a SKU's history."""
