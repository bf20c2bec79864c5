"""The Matrix (Tchap) adapter: mautrix client, end-to-end encryption, the same core."""
