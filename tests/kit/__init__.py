"""Tests of the kit package."""
