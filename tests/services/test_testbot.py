"""The conversation as a person meets it, through the `bot` fixture: push text, read the reply."""

from __future__ import annotations

from bot.chat import Visibility
from tests.fakes import CAMILLE, MAGALI, TestBot


async def test_help_lists_the_commands_of_the_table(bot: TestBot) -> None:
    reply = await bot.push("/intra aide")
    assert "rejoindre" in reply.text and "chercher" in reply.text


async def test_a_request_reaches_the_referents_and_its_list_is_theirs(bot: TestBot) -> None:
    mine = await bot.push("/intra rejoindre bonjour", CAMILLE)
    assert "transmise" in mine.text and mine.visibility is Visibility.ASKER
    assert bot.platform.sent, "the referents were not told"
    listing = await bot.push("/intra demandes", MAGALI)
    assert len(listing.cards) == 1 and listing.visibility is Visibility.ASKER
    refused = await bot.push("/intra demandes", CAMILLE)
    assert not refused.cards and "référentes" in refused.text


async def test_a_question_is_answered_from_the_content(bot: TestBot) -> None:
    reply = await bot.push("qui sont les référents ?")
    assert reply.visibility is Visibility.EVERYONE and reply.text
    club = await bot.push("/intra club")
    assert "club" in club.text.lower()
