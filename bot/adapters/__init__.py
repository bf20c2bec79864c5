"""The chat platforms: each translates and renders, the core stays neutral."""
