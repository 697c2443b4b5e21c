"""Live video from body cameras and drones: WebRTC ingest (WHIP), relay to viewers (WHEP),
snapshots and recordings. Pure media code on aiortc: no database, no HTTP.

- `ice`       which host addresses and STUN/TURN servers peers are offered
- `sdp`       checks on offers before aiortc sees them
- `frames`    encoded frames and keyframe detection
- `tap`       takes encoded frames out of an aiortc receiver, before any decoding
- `relay`     fans one publisher's encoded frames out to many viewers (no transcoding)
- `snapshot`  one keyframe → JPEG
- `recorder`  encoded frames → Matroska file, as the camera sent them
- `streams`   streams, their publisher and viewer sessions, limits and time-outs
"""
