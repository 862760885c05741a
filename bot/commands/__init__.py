"""Command modules of the `privacybot` CLI; the main group attaches them."""
