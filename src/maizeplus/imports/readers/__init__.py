"""Streaming readers for CSV and XLSX uploads."""
