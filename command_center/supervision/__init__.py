"""Deadlines and the supervision ladder: reminders, supervision orders, escalation."""
