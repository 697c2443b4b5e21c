"""Geometry helpers for the command center: coordinate systems and boundary import.

This package depends only on the standard library and shapely, never on the rest
of the project, so it can be tested and reused on its own.
"""
