"""Evidence attached to clues: photos, video snapshots, recordings, documents."""
