"""Alerts that reach people where they are: squad members on SMS (CMPP), DingTalk or
WeCom when a clue is dispatched, reporters by SMS as their tip moves on."""
