"""Adapters that turn outside input (Open311 forms, grid-worker reports, …) into clues."""
