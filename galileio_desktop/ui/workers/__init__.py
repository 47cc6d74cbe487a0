"""The window's background threads and the operations they run for it."""
