"""A customer's activity: what the ledger says, why a balance is what it is, and the timeline."""
