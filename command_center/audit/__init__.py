"""The record: the event log as a hash chain, and its verification."""
