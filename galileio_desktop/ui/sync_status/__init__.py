"""What the sync is doing: the status bar and the changes DynamoDB refused."""
