"""The Qt face of the app: windows, models, delegates and the background worker."""
