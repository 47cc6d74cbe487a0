"""Accounts: signing in and out, the Account menu, switching, the first-run welcome."""
