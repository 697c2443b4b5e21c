"""jurisdictions."""
