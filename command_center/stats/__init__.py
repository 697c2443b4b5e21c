"""Supervision analytics: indicators over the event record, rankings, hot spots."""
