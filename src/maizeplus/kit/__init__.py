"""Plumbing shared by every domain: errors, pagination, time and identifiers."""
