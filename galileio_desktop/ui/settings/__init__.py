"""Settings: the dialog (File → Settings, Ctrl+,) and the preferences it applies to the running app."""
