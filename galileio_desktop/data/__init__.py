"""The GUI-free core: schema, DynamoDB gateway, mirror, sync, credentials, assistants.

Nothing in this package may import Qt; the CLI and the window both stand on it.
"""
