"""Tenants, their options, and their business and organizational units."""
