"""Where the squads are: members and their devices, positions from OsmAnd-protocol trackers."""
