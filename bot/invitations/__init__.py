"""Invitations to the private channel: request -> accepted / declined."""
