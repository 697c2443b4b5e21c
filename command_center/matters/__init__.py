"""matters."""
