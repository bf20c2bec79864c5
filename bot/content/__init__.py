"""The content: YAML -> validated models, the search units and index."""
