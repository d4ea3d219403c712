"""Shipped model files and the thin runtime wrappers that load them."""
