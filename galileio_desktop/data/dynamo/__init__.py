"""DynamoDB: the client, the gateway of the table's access patterns, batch and
transaction writers, what counts as DynamoDB's answer, and stopping requests."""
