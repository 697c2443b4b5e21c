"""The browser of the end-to-end tests, for the single sign-on test in Chromium."""

from tests.e2e.conftest import chromium

__all__ = ["chromium"]
