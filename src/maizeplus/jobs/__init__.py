"""Runners that process import jobs: embedded in the server, or procrastinate."""
