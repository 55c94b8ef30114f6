"""Pure rules of dunning: which step is due for an item, what one message per customer says."""
