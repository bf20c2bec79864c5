"""`python tests/eval/sample.py --seed N [--count 20] [--set FILE]`: a few questions of an
evaluation set chosen at random (the seed printed), each with the start of the bot's reply,
as the checkout it runs in answers. Run it in two checkouts to compare replies before and
after a change; it uses only what every version of the bot has (load_content, the
conversation, the club's service), so it runs against older commits too:

    git worktree add /tmp/before <commit>
    PYTHONPATH=/tmp/before python tests/eval/sample.py --seed 7
"""

from __future__ import annotations

import argparse
import asyncio
import random
from pathlib import Path

import yaml

from bot.answers.conversation import Conversation
from bot.chat import Message, User
from bot.club.service import ClubService
from bot.content.loader import ContentSource, load_content

HELDOUT = Path(__file__).resolve().parent / "heldout.yaml"
SHOWN = 300


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--set", type=Path, default=HELDOUT)
    options = parser.parse_args()
    entries = yaml.safe_load(options.set.read_text(encoding="utf-8"))["questions"]
    chosen = random.Random(options.seed).sample(entries, options.count)
    source = ContentSource.of(load_content())
    conversation = Conversation(source)
    conversation.serve_topic("club", ClubService(source, store=None, owner="eval").reply)
    user = User(id="sample", username="sample")
    print(f"seed {options.seed}, {options.count} of {len(entries)} questions of {options.set.name}")
    for number, entry in enumerate(chosen, start=1):
        message = Message(text=entry["q"], user=user, channel_id="sample")
        reply = asyncio.run(conversation.respond(message)).text
        print(f"\n{number}. « {entry['q']} »\n   → {' '.join(reply.split())[:SHOWN]}")


if __name__ == "__main__":
    main()
