"""Answers through the real server: the fact first, the honest answer, `/intra stats`."""

from __future__ import annotations

import pytest

from tests.e2e.bot_process import BotProcess, MattermostUser
from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e


def flat(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_a_question_gets_the_fact_first_and_stats_count_it(
    mattermost: MattermostServer, bot: BotProcess, alice: MattermostUser
) -> None:
    channel = mattermost.public_channel_id
    oral = alice.run_command(channel, "/intra combien de temps dure l'oral de certification ?")
    assert flat(oral["text"]).startswith("**L'oral d'évaluation**")
    assert "1 h à 1 h 30" in flat(oral["text"])
    assert oral["response_type"] == "ephemeral"
    honest = alice.run_command(channel, "/intra recette de la tarte aux pommes")
    assert flat(honest["text"]).startswith("Je n'ai pas de réponse sûre")

    refused = alice.run_command(channel, "/intra stats")
    assert "réservées aux référentes" in refused["text"]

    marine = MattermostUser(mattermost, "marine.purson")
    try:
        # A referent need not be in the public channel: she asks in her DM with the bot
        # (outside a team's channel, a command names its team).
        response = marine.client.post(
            "/commands/execute",
            json={
                "channel_id": marine.dm_channel_with(mattermost.bot_user_id),
                "command": "/intra stats",
                "team_id": mattermost.team_id,
            },
        )
        assert response.status_code == 200, response.text
        stats = response.json()
    finally:
        marine.close()
    text = flat(stats["text"])
    assert stats["response_type"] == "ephemeral"  # the figures are for the referent only
    assert "Questions posées : 2, dont 1 sans réponse sûre" in text
    assert "certification 1" in text
