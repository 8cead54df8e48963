"""Reports the orders app owns because it knows the billing documents (close.md M5)."""
