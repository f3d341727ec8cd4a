"""Finding a customer from what the caller has: read the search box, then resolve it."""
