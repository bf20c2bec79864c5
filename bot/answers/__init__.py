"""Answers: text -> command -> Reply, pure; the conversation's one way in."""
