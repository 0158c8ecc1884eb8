"""Helpers for tests and benchmarks; the library never imports this package."""
