"""Read models of the consoles: the wall map (clues aggregated per zoom, squads, the
jurisdictions as GeoJSON), a clue's evidence and its suggested squads."""
