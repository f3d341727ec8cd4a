"""Customer Lookup: a dashboard for Capillary loyalty customers."""
