"""Who is welcomed: someone joining the public channel, never the bot, never when disabled."""

from __future__ import annotations

from bot.answers.welcome import WelcomeSettings, should_welcome, welcome_key, welcome_reply
from bot.content.loader import ContentSource

ON = WelcomeSettings(channel_id="public", enabled=True)


def test_a_person_joining_the_public_channel_is_welcomed() -> None:
    assert should_welcome(ON, "public", "u1", "bot")


def test_no_welcome_elsewhere_for_the_bot_without_a_user_or_when_disabled() -> None:
    assert not should_welcome(ON, "other", "u1", "bot")
    assert not should_welcome(ON, "public", "bot", "bot")
    assert not should_welcome(ON, "public", "", "bot")
    assert not should_welcome(WelcomeSettings("public", enabled=False), "public", "u1", "bot")


def test_one_key_per_person_and_the_text_of_the_content() -> None:
    assert welcome_key("u1") == "welcome:u1" != welcome_key("u2")
    content = ContentSource().current
    assert welcome_reply(content).text == content.messages.welcome.text
