"""Reproducible benchmarks; each module is a command, and results go to a page of docs."""
