"""Keyboard shortcuts: every one of the window's, read from its actions, and the list shown to the user."""
