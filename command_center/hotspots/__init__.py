"""Hot spots: where clues come from, by cell, matter, hour of day and weekday."""
