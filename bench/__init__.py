"""`python -m bench` (`make bench`): the dashboard's speed against a slow sandbox, on loopback."""
