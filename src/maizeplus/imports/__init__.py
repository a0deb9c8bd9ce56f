"""Bulk user imports: reading files, validating rows, applying them, reporting."""
