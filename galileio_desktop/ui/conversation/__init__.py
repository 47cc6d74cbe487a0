"""The conversation: the message pane, its model and delegate, the composer, the sources."""
