"""API keys of partner systems (Open311 `api_key`)."""
