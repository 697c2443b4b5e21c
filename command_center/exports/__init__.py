"""Exports of clues with filters, as GeoJSON and CSV, for GIS tools and spreadsheets."""
