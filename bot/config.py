"""Settings: a TOML file, then `INTRA_BOT_<SECTION>__<KEY>` environment overrides.

The console and `intra-bot ask` need no file at all: every key has a default.
Secrets are `SecretStr`: they never appear in a log line, a repr or an error.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.database_url import DatabaseUrl

ENV_PREFIX = "INTRA_BOT_"
DEFAULT_CONFIG_FILE = Path("config.toml")
# The community's time zone: the dates people read, unless the club's schedule names another.
DEFAULT_TIMEZONE = "Europe/Paris"
# The community's channels on Mattermost (the defaults of [mattermost]).
DEFAULT_PUBLIC_CHANNEL = "domaine-intrapreneurs"
DEFAULT_PRIVATE_CHANNEL = "domaine-intras-prive"


class SettingsTable(BaseModel):
    """One TOML table of the settings ([mattermost], [http]…); unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class ContentSettings(SettingsTable):
    dir: Path | None = Field(None, description="content directory; default: the bundled content/")


class MattermostSettings(SettingsTable):
    url: str = "http://127.0.0.1:8065"
    token: SecretStr = SecretStr("")
    team: str = "betagouv"
    public_channel: str = DEFAULT_PUBLIC_CHANNEL
    private_channel: str = DEFAULT_PRIVATE_CHANNEL
    request_timeout: float = Field(10.0, gt=0)
    catchup_hours: float = Field(24.0, ge=0)


# Printed masked wherever a settings object is (bot/database_url.py), used as a plain str.
DatabaseUrlField = Annotated[str, AfterValidator(DatabaseUrl)]
MIN_SIGNING_SECRET = 32
MIN_SECRET = MIN_SIGNING_SECRET
MAKE_SECRET = "the output of `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"


class HttpSettings(SettingsTable):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    command_tokens: list[SecretStr] = []
    signing_secret: SecretStr = SecretStr("")
    # How long a button the bot posts (a request's « Accepter » / « Refuser ») can be clicked.
    button_days: float = Field(30.0, gt=0)

    @field_validator("signing_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        # It signs the buttons that accept people into the private channel: a short one
        # could be guessed offline from a single signed button.
        value = secret.get_secret_value()
        if value and len(value) < MIN_SIGNING_SECRET:
            raise ValueError(
                f"too short ({len(value)} characters): use at least {MIN_SIGNING_SECRET}, e.g. "
                "the output of `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`, "
                "or leave it empty to derive it from the bot token"
            )
        return secret


class StoreSettings(SettingsTable):
    url: DatabaseUrlField = Field("sqlite:///intra-bot.sqlite3", validate_default=True)
    # Claims of handled messages and reactions (post and event ids) are deleted after this.
    claims_retention_days: float = Field(30.0, ge=1)


class InvitationsSettings(SettingsTable):
    referents_channel: str = ""
    cooldown_days: float = Field(30.0, ge=0)
    recall_after_days: float = Field(3.0, ge=0)
    retention_days: float = Field(365.0, ge=1)
    pending_retention_days: float = Field(90.0, ge=1)
    decision_lease_seconds: float = Field(120.0, gt=0)


class RemindersSettings(SettingsTable):
    enabled: bool = True
    grace_hours: float = Field(6.0, gt=0)
    lease_seconds: float = Field(120.0, gt=0)


class AnswersSettings(SettingsTable):
    record_questions: bool = True
    retention_days: float = Field(90.0, ge=1)
    # How long a process holds a question while it replies (Tchap's retries take about two
    # minutes); a process that died holding one is replaced after that.
    claim_lease_seconds: float = Field(180.0, gt=0)
    # Each person's share: `question_burst` at once, refilled at this pace (0: no limit).
    questions_per_minute: float = Field(6.0, ge=0)
    question_burst: int = Field(6, ge=1)


class OutboxSettings(SettingsTable):
    lease_seconds: float = Field(60.0, gt=0)
    retention_days: float = Field(30.0, ge=1)


class SubscriptionsSettings(SettingsTable):
    """« Prévenez-moi »: the personal messages of people who asked for them."""

    enabled: bool = True
    # The club's DM: `club_before` the club (« 1j », « 2h », « 30min »: whole days on the
    # calendar, the rest elapsed), at `club_at` on that day (only with whole days; "" : the
    # club's own hour).
    club_before: str = "1j"
    club_at: str = "17:00"
    # The certification's reminder goes this many days before the sign-up deadline.
    certification_reminder_days: int = Field(3, ge=1)
    # The newcomers' follow-up: one DM this many days after the welcome (0: none).
    newcomer_follow_up_days: float = Field(14.0, ge=0)
    # A DM whose time was missed (bot down) by less than this is still sent.
    grace_hours: float = Field(6.0, gt=0)
    # How often the due messages are looked for, in seconds.
    sweep_seconds: float = Field(60.0, ge=1)
    # No personal DM from `quiet_start` to `quiet_until` (and at the weekend) unless what it
    # announces is the next day: it waits for the morning.
    quiet_hours: bool = True
    quiet_start: dt.time = dt.time(20, 0)
    quiet_until: dt.time = dt.time(8, 30)
    quiet_weekend: bool = True

    @field_validator("club_before")
    @classmethod
    def _duration(cls, text: str) -> str:
        from bot.content.schedule import parse_duration

        try:
            parse_duration(text)
        except ValueError:
            raise ValueError(
                f'\'{text}\' is not a duration: write e.g. "1j" (one day), "2h", "30min"'
            ) from None
        return text

    @field_validator("club_at")
    @classmethod
    def _hour(cls, text: str) -> str:
        if text:
            try:
                dt.time.fromisoformat(text)
            except ValueError:
                raise ValueError(f"'{text}' is not an hour: write HH:MM, e.g. \"17:00\"") from None
        return text


class MatrixSettings(SettingsTable):
    """The Matrix (Tchap) adapter; off while `homeserver` is empty."""

    homeserver: str = Field("", description="client-server API base URL; empty: Matrix is off")
    user_id: str = Field(
        "", description="the bot's full id, e.g. @intra-bot:agent.dinum.tchap.gouv.fr"
    )
    access_token: SecretStr = Field(
        SecretStr(""), description="token of an existing session (with device_id); else password"
    )
    password: SecretStr = Field(
        SecretStr(""), description="used once, for the first login; the session is then stored"
    )
    device_id: str = Field("", description="the device of access_token (needed for E2EE)")
    pickle_key: SecretStr = Field(
        SecretStr(""),
        description="encrypts the crypto store's keys at rest; required with a homeserver, "
        "from the configuration or INTRA_BOT_MATRIX__PICKLE_KEY, never kept in the store",
        validate_default=True,
    )
    crypto_store_url: DatabaseUrlField = Field(
        "",
        description="crypto and room state; empty: derived from [store] url",
        validate_default=True,
    )

    recovery_key_file: str = Field(
        "",
        description="where the first start writes the cross-signing recovery key (mode 0600); "
        "empty: <store dir>/<store name>-secrets/matrix-recovery-key.txt beside a SQLite store "
        "(directory 0700); required when the store is not a SQLite file (PostgreSQL)",
    )
    public_room: str = Field("", description="room id or alias of « Domaine-intras »")
    private_room: str = Field("", description="room id or alias of the private intras room")
    referents_room: str = Field(
        "", description="room id or alias where referents get join requests; empty: by DM"
    )
    allowed_homeservers: list[str] = Field(
        [], description="servers whose users may invite the bot; empty: the bot's own server"
    )
    requests_per_second: float = Field(
        1.0, gt=0, description="sustained pace toward the homeserver"
    )
    burst: int = Field(10, ge=1, description="requests allowed at once before the pace applies")
    command_prefix: str = Field("!intra", min_length=1)
    dm_retention_days: float = Field(
        365.0, ge=1, description="a person's DM room record is forgotten after this long unused"
    )

    @field_validator("pickle_key")
    @classmethod
    def _pickle_key(cls, key: SecretStr, info: ValidationInfo) -> SecretStr:
        # The crypto store it protects sits beside the main store: a key kept there too
        # would protect nothing from whoever reads one of them.
        value = key.get_secret_value()
        if info.data.get("homeserver") and not value:
            raise ValueError(
                "required when matrix.homeserver is set: give it in the configuration or in "
                f"INTRA_BOT_MATRIX__PICKLE_KEY, at least {MIN_SECRET} characters, e.g. {MAKE_SECRET}"
            )
        if value and len(value) < MIN_SECRET:
            raise ValueError(
                f"too short ({len(value)} characters): use at least {MIN_SECRET}, e.g. {MAKE_SECRET}"
            )
        return key


class LoggingSettings(SettingsTable):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["keyvalue", "json"] = "keyvalue"


class Settings(SettingsTable):
    content: ContentSettings = ContentSettings()
    mattermost: MattermostSettings = MattermostSettings()
    http: HttpSettings = HttpSettings()
    store: StoreSettings = StoreSettings()
    reminders: RemindersSettings = RemindersSettings()
    invitations: InvitationsSettings = InvitationsSettings()
    answers: AnswersSettings = AnswersSettings()
    outbox: OutboxSettings = OutboxSettings()
    subscriptions: SubscriptionsSettings = SubscriptionsSettings()
    matrix: MatrixSettings = MatrixSettings()
    logging: LoggingSettings = LoggingSettings()


def missing_matrix_extra(error: ImportError) -> str | None:
    """The operator's message when Matrix is configured but its optional extra is not
    installed; None when the import failed for another reason (a bug, not a setup)."""
    missing = (error.name or "").split(".")[0]
    if not missing or missing == "bot":
        return None
    return (
        f"Matrix (Tchap) support is not installed (no module '{missing}'): "
        "pip install 'intra-bot[matrix]', or empty matrix.homeserver to serve Mattermost only"
    )


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and how to fix it."""


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (if given, or ./config.toml if present) and apply environment overrides."""
    environ = os.environ if environ is None else environ
    explicit = path is not None or bool(environ.get(f"{ENV_PREFIX}CONFIG"))
    path = path or Path(environ.get(f"{ENV_PREFIX}CONFIG", DEFAULT_CONFIG_FILE))
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: invalid TOML ({error})") from None
    elif explicit:
        raise ConfigError(f"{path}: config file not found (copy config.example.toml and edit it)")
    from_environment = _apply_environment(data, environ)
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(path, error, from_environment)) from None


def _apply_environment(
    data: dict[str, Any], environ: Mapping[str, str]
) -> dict[tuple[str, str], str]:
    """Overlay the environment on the file's data; returns (section, key) -> variable name."""
    origins: dict[tuple[str, str], str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(f"{name}: [{section}] is not a section")
        field = _field(section, key)
        is_list = field is not None and "list" in str(field.annotation)
        target[key] = (
            [item.strip() for item in value.split(",") if item.strip()] if is_list else value
        )
        origins[(section, key)] = name
    return origins


def _field(section: str, key: str) -> Any:
    section_field = Settings.model_fields.get(section)
    if section_field is None or not isinstance(section_field.annotation, type):
        return None
    annotation = section_field.annotation
    if issubclass(annotation, BaseModel):
        return annotation.model_fields.get(key)
    return None


def _describe(
    path: Path, error: ValidationError, from_environment: Mapping[tuple[str, str], str]
) -> str:
    """One line per problem, naming where the bad value came from: the file or the variable."""
    lines = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        key = ".".join(loc)
        variable = from_environment.get((loc[0], loc[1])) if len(loc) >= 2 else None
        if variable is None and len(loc) == 1:
            # a whole unknown section made of environment variables only
            variable = next((v for (s, _), v in from_environment.items() if s == loc[0]), None)
        where = f"environment variable {variable}" if variable else str(path)
        if item["type"] == "extra_forbidden":
            lines.append(
                f"{where}: unknown key '{key}' (see config.example.toml for the valid keys)"
            )
        else:
            lines.append(f"{where}: '{key}': {item['msg']}")
    return "\n".join(lines)
