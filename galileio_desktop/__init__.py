"""Galileio Desktop: a local-first desktop client for Galileo chat history in DynamoDB."""

__version__ = "0.1.0"
