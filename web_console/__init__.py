"""Web consoles (wall screen, dispatcher desk, squad phone, resident page)."""
