"""Search everything (Ctrl+K): the dialog and its results."""
