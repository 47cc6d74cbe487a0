"""Accounts, sign-in and secrets: who the user is and what they may reach.

- :mod:`.accounts`: the accounts file (no secrets in it, ever);
- :mod:`.secrets`: secrets in the OS keyring, or in memory when there is none;
- :mod:`.cognito`, :mod:`.tokens` and :mod:`.identity_pool`: Cognito SRP sign-in,
  tokens renewed before they expire, and self-renewing identity pool credentials;
- :mod:`.sessions`: an account to a boto3 Session (:func:`open_session`,
  :func:`login`, :func:`logout`);
- :mod:`.partition_guard`: refuses DynamoDB requests outside the user's partition;
- :mod:`.redaction`: keeps secrets out of botocore's debug logging.

Submodules are imported where they are used: the window opens its mirror without
loading boto3 or the keyring.
"""
