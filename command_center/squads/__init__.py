"""squads."""
