"""Reusable constructs: one per capability."""
