"""Dispatch command center for integrated city enforcement."""
