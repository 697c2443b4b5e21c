"""What the public may see of a clue: one view for Open311 and the progress page."""
