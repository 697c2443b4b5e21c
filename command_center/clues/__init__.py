"""clues."""
