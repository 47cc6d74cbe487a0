"""The deployment's own chat REST API: a second way to the chats, beside DynamoDB."""
