"""One module per intent. Handlers speak channel-neutral `Reply` objects only."""
