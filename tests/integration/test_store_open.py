"""Replicas starting at the same instant on a fresh store all start."""

from __future__ import annotations

import multiprocessing
from pathlib import Path


def open_store(url: str, barrier: object, results: object) -> None:
    from bot.invitations.records import InvitationRecords
    from bot.store import Store

    barrier.wait()  # type: ignore[attr-defined]
    try:
        InvitationRecords(Store.open(url))
        results.put("ok")  # type: ignore[attr-defined]
    except Exception as error:
        results.put(f"{error.__class__.__name__}: {error}")  # type: ignore[attr-defined]


def test_several_replicas_create_the_tables_together(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    for round_ in range(3):
        url = f"sqlite:///{tmp_path}/fresh{round_}.db"
        barrier, results = context.Barrier(4), context.Queue()
        processes = [
            context.Process(target=open_store, args=(url, barrier, results)) for _ in range(4)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
        outcomes = [results.get(timeout=5) for _ in processes]
        assert outcomes == ["ok"] * 4, outcomes
