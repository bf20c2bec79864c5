"""« Prévenez-moi » on a real store: subscribing, stopping, listing, per person and platform."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat import Visibility
from tests.fakes import CAMILLE, MAGALI
from tests.services.subscription_bed import Bed, make_bed


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[Bed]:
    made = make_bed(tmp_path)
    yield made
    made.close()


async def test_subscribing_to_the_club_is_private_once_and_says_how_to_stop(bed: Bed) -> None:
    reply = await bed.push("/intra club prevenez-moi", CAMILLE)
    assert reply.visibility is Visibility.ASKER
    assert "C'est noté" in reply.text and "la veille de chaque club" in reply.text
    assert "`/intra club stop`" in reply.text
    again = await bed.push("club Prévenez-moi !", CAMILLE)
    assert "C'était déjà noté" in again.text
    assert bed.subscriptions.records.counts() == {"club": 1}


async def test_on_tchap_the_commands_read_as_tchap_writes_them(bed: Bed) -> None:
    reply = await bed.push("club prevenez-moi", CAMILLE, platform="matrix")
    assert "`!intra club stop`" in reply.text and "/intra" not in reply.text


async def test_a_subscription_is_per_platform_and_per_person(bed: Bed) -> None:
    await bed.push("club prevenez-moi", CAMILLE, platform="matrix")
    await bed.push("certification prevenez-moi", MAGALI)
    mine = await bed.push("/intra mes-abonnements", CAMILLE)
    assert "aucun rappel personnel" in mine.text  # on Mattermost, Camille has none
    on_tchap = await bed.push("mes-abonnements", CAMILLE, platform="matrix")
    assert "le club intras" in on_tchap.text and "la certification" not in on_tchap.text
    assert "`!intra club stop`" in on_tchap.text
    magali = await bed.push("abonnements", MAGALI)
    assert "la certification" in magali.text and "le club intras" not in magali.text
    assert magali.visibility is Visibility.ASKER


async def test_stop_ends_only_that_subscription_and_says_so(bed: Bed) -> None:
    await bed.push("club prevenez-moi", CAMILLE)
    await bed.push("certification prevenez-moi", CAMILLE)
    stopped = await bed.push("/intra club stop", CAMILLE)
    assert "C'est arrêté" in stopped.text and stopped.visibility is Visibility.ASKER
    assert bed.subscriptions.records.counts() == {"certification": 1}
    nothing = await bed.push("club stop", CAMILLE)
    assert "rien à arrêter" in nothing.text


async def test_a_question_about_the_club_is_still_answered_by_the_club(bed: Bed) -> None:
    await bed.push("club prevenez-moi", CAMILLE)
    reply = await bed.push("/intra club", CAMILLE)
    assert "Le prochain club" in reply.text
    assert bed.subscriptions.records.counts() == {"club": 1}


async def test_the_referents_stats_count_active_subscriptions_per_kind_never_who(
    bed: Bed,
) -> None:
    from bot.answers.question_log import QuestionLog
    from bot.answers.stats import StatsService
    from bot.chat import Message
    from bot.invitations.schema import ensure_schema

    ensure_schema(bed.store.engine)  # the figures read the invitations' table too
    await bed.push("club prevenez-moi", CAMILLE)
    await bed.push("club prevenez-moi", CAMILLE, platform="matrix")
    await bed.push("certification prevenez-moi", MAGALI)
    await bed.push("club prevenez-moi", MAGALI)
    await bed.push("club stop", MAGALI)

    async def referent(_message: Message) -> bool:
        return True

    stats = StatsService(
        QuestionLog(bed.store),
        referent,
        bed.clock,
        subscriptions=bed.subscriptions.records.counts,
    )
    reply = await stats.reply(Message("stats", MAGALI, "dm"), "")
    text = reply.text.replace("\u202f", " ").replace("\u00a0", " ")
    assert "Rappels personnels actifs aujourd'hui : club 2, certification 1" in text
    assert CAMILLE.id not in text and CAMILLE.username not in text
