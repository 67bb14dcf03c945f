"""Benchmarks that print the figures the issues name."""
