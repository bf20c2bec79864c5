"""One person's data across the store: found, exported, erased (`intra-bot export|forget`).

Each feature that keeps records about people contributes a `Keeper` that reads and erases
its own tables (the invitations theirs, the outbox its own, the Matrix adapter its DM rooms
and room state); this package only knows the shape they share (`model.py`) and runs them
in turn. See docs/donnees-personnelles.md for what is kept, why and for how long.
"""
