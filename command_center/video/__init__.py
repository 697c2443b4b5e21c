"""Live video from body cameras and drones: WHIP ingest, WHEP viewing, snapshots as
evidence, clues from video, recordings. The media work is in `feeds.video`."""
