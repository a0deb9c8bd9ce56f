"""Outgoing notifications: the import report mail."""
