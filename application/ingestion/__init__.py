"""Taking documents in, and turning them into indexed chunks."""
