"""Devices (body cameras, drones, phones) and where they are: telemetry in, live positions out."""
