"""Notification channels beyond the websocket: signed webhooks now, SMS or chat later."""
