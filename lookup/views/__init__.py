"""Views: thin functions that parse input, call the service layer and render."""
