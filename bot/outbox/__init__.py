"""The outbox: side effects kept in the store until done, and their worker."""
