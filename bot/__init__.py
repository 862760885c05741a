"""Runtime shell of the privacy support bot."""
