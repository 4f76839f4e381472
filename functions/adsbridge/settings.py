"""Export job settings, named exactly like Treasure Data's ``result_settings`` so TD users can reuse theirs.

Every rule of TD's parameter table and of the AMC audiences API (docs/amc-audiences-api.md#audience-metadata
and #treasure-data-settings) is checked here, before anything is sent to Amazon; each violation names
the setting it is about.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from adsbridge.ads.contract import AUDIENCE_DESCRIPTION_MAX, AUDIENCE_NAME_LENGTH  # Amazon's API model's bounds
from adsbridge.identity.countries import normalize_country
from adsbridge.regions import Region

MAX_TTL_SECONDS = 34_300_800  # 13 months: Amazon's default and maximum (docs/amc-audiences-api.md#ttl)
MAX_WAIT_MINUTES = 1_380  # 23 hours, TD's bound
MAX_FEE_CPM_CENTS = 100_000  # 1,000 per thousand impressions; real data fees are a few units (AudienceFee)
FEE_CURRENCIES = frozenset(["AED", "AUD", "CAD", "CNY", "EUR", "GBP", "INR", "JPY", "MXN", "SAR", "SEK", "TRY", "USD"])
_DIGITS = re.compile(r"^[0-9]{1,20}$")


class SettingsError(ValueError):
    """Bad job settings; ``str()`` lists every problem, each prefixed by the setting's name."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings: " + "; ".join(problems))


class AudienceFee(BaseModel):
    """One ``audienceFees`` entry; parsed from TD's ``CUR:cpmCents`` text (e.g. ``USD:150``).

    Amazon's model bounds cpmCents below only (an integer >= 0); the upper bound is adsbridge's: a fee above
    it is a unit mistake (dollars typed as cents twice, micros), not a price anyone charges per thousand.
    """

    model_config = ConfigDict(frozen=True)

    currency: str
    cpm_cents: int

    @classmethod
    def parse(cls, text: str) -> AudienceFee:
        """Raise ValueError naming what is wrong, never quoting ``text``."""
        currency, sep, cents = text.strip().partition(":")
        currency, cents = currency.strip().upper(), cents.strip()
        if not sep or not (cents.isascii() and cents.isdigit()):  # isdigit alone takes "²" and "١٥٠"
            raise ValueError("must be 'CURRENCY:cpmCents', e.g. 'USD:150'")
        if currency not in FEE_CURRENCIES:
            raise ValueError(f"the currency must be one of {' '.join(sorted(FEE_CURRENCIES))}")
        if len(cents) > len(str(MAX_FEE_CPM_CENTS)) or int(cents) > MAX_FEE_CPM_CENTS:
            raise ValueError(f"cpmCents must be at most {MAX_FEE_CPM_CENTS} (a CPM of 1,000 in the currency)")
        return cls(currency=currency, cpm_cents=int(cents))

    def to_api(self) -> dict[str, Any]:
        return {"currency": self.currency, "cpmCents": self.cpm_cents}

    @property
    def text(self) -> str:
        """TD's ``CUR:cpmCents`` form, which ``parse`` reads back to this fee."""
        return f"{self.currency}:{self.cpm_cents}"


class ExportSettings(BaseModel):
    """Settings of one audience export job (TD ``result_settings`` names, plus adsbridge extensions)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["amazon_ads"] = "amazon_ads"
    # TD keeps its credentials behind this id; adsbridge reads credentials from Secrets Manager or the
    # environment instead, so the key is accepted (TD settings work unchanged) and ignored.
    td_authentication_id: str | None = None  # a JSON integer is kept as its digit string (``exact_ids``)
    amc_instance_id: Annotated[str, Field(min_length=1)]
    amc_account_id: str | None = None
    region: Region = Field(default=Region.NA, validation_alias=AliasChoices("region", "dsp_region"))
    action: Literal["CREATE", "UPDATE"] = "CREATE"
    upload_mode: Literal["APPEND", "DELETE"] = "APPEND"
    target: Literal["AMC", "AMC_AND_DSP"] = "AMC"
    dsp_advertiser_id: str | None = None
    external_audience_id: str | None = None
    audience_id: int | None = None
    audience_name: str | None = None
    audience_description: Annotated[str, Field(max_length=AUDIENCE_DESCRIPTION_MAX)] = ""
    audience_fee: AudienceFee | None = None
    time_to_live: Annotated[int, Field(ge=0, le=MAX_TTL_SECONDS, strict=True)] = MAX_TTL_SECONDS
    country_code: str
    wait_until_finish: StrictBool = False
    max_wait_time: Annotated[int, Field(ge=1, le=MAX_WAIT_MINUTES, strict=True)] | None = None
    # adsbridge extension: UK/EEA rows with no consent column filled are skipped (and counted) unless false.
    require_consent_for_uk_eea: StrictBool = True

    @model_validator(mode="before")
    @classmethod
    def _one_region(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and "region" in data
            and "dsp_region" in data
            and data["region"] != data["dsp_region"]
        ):
            raise ValueError("region: 'region' and 'dsp_region' disagree; give one of them")
        return data

    @field_validator("region", mode="before")
    @classmethod
    def _upper_region(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("amc_instance_id", "amc_account_id", "external_audience_id", "audience_name", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("td_authentication_id", mode="before")
    @classmethod
    def _exact_id(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("dsp_advertiser_id", mode="before")
    @classmethod
    def _advertiser_digits(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
        if text is None or not _DIGITS.match(text):
            raise ValueError("must be the numeric DSP advertiser id")
        return text

    @field_validator("audience_id", mode="before")
    @classmethod
    def _audience_id(cls, value: Any) -> Any:
        # Ids are 18-digit numbers: accept an int or a digit string, never a float (it would be rounded).
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | str) or not _DIGITS.match(str(value).strip()):
            raise ValueError("must be the numeric audience id returned when the audience was created")
        return int(str(value).strip())

    @field_validator("audience_fee", mode="before")
    @classmethod
    def _fee(cls, value: Any) -> Any:
        # TD's setting is text; a JSON number (150) or object would be guessing at the currency or the unit
        if value is None or isinstance(value, AudienceFee):
            return value
        if not isinstance(value, str):
            raise ValueError("must be a string 'CURRENCY:cpmCents', e.g. 'USD:150'")
        return AudienceFee.parse(value) if value.strip() else None

    @field_validator("country_code", mode="before")
    @classmethod
    def _country(cls, value: Any) -> Any:
        code = normalize_country(value) if isinstance(value, str) else None
        if code is None:
            raise ValueError("must be an ISO 3166-1 alpha-2 country code, e.g. 'US'")
        return code

    @model_validator(mode="after")
    def _required_if(self) -> ExportSettings:
        problems: list[str] = []
        if self.target == "AMC_AND_DSP" and not self.dsp_advertiser_id:
            problems.append("dsp_advertiser_id: required when target is AMC_AND_DSP")
        if self.action == "UPDATE" and self.audience_id is None:
            problems.append("audience_id: required when action is UPDATE")
        if self.action == "CREATE":
            if not self.external_audience_id:
                problems.append("external_audience_id: required when action is CREATE")
            if not self.audience_name:
                problems.append("audience_name: required when action is CREATE")
            elif not AUDIENCE_NAME_LENGTH[0] <= len(self.audience_name) <= AUDIENCE_NAME_LENGTH[1]:
                problems.append(
                    f"audience_name: must be {AUDIENCE_NAME_LENGTH[0]}-{AUDIENCE_NAME_LENGTH[1]} characters"
                )
        if self.action == "CREATE" and self.upload_mode == "DELETE":
            problems.append("upload_mode: DELETE needs action UPDATE (an audience that exists)")
        if self.wait_until_finish and self.max_wait_time is None:
            problems.append("max_wait_time: required (1-1380 minutes) when wait_until_finish is true")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_serializer("audience_fee", when_used="json")
    def _fee_text(self, fee: AudienceFee | None) -> str | None:
        return None if fee is None else fee.text

    def wire(self) -> dict[str, Any]:
        """These settings as JSON that validates back to equal settings, exact through any JSON reader.

        Only the settings that were given (``exclude_unset``), as TD-named JSON values: ids as digit strings
        (``exact_ids``: JavaScript's doubles round 18-digit numbers), the fee as its ``CUR:cpmCents`` text. It is
        how settings travel (execution inputs, templates) and what ``checkpoint.run_id`` hashes: settings written
        canonically (digit-string ids, upper-case codes) give the same JSON as they were written.
        """
        return exact_ids(self.model_dump(mode="json", exclude_unset=True))

    @property
    def record_action(self) -> Literal["CREATE", "DELETE"]:
        """The per-record ``action`` Amazon expects for this upload mode."""
        return "DELETE" if self.upload_mode == "DELETE" else "CREATE"


# Ids are 18- and 19-digit numbers; a reader that keeps JSON numbers as doubles (JavaScript, so CDK and every
# template it synthesises) rounds them to another id. Settings that leave Python carry them as digit strings,
# TD's td_authentication_id too: ignored by adsbridge, but a rounded copy of it in a template is still wrong.
ID_SETTINGS = ("audience_id", "dsp_advertiser_id", "amc_account_id", "td_authentication_id")


def exact_ids(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every id given as a JSON integer turned into its exact digit string (the model takes both)."""
    return {
        key: str(value) if key in ID_SETTINGS and isinstance(value, int) and not isinstance(value, bool) else value
        for key, value in data.items()
    }


def parse_settings(data: Any) -> ExportSettings:
    """Validate raw settings (a dict from JSON); raise SettingsError naming each bad field."""
    if not isinstance(data, dict):
        raise SettingsError(["settings: must be a JSON object"])
    try:
        return ExportSettings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError([line for err in exc.errors(include_input=False) for line in _describe(err)]) from None


def _validated(value: Any) -> Any:
    """A model field's settings: an ``ExportSettings`` as is, raw settings validated with ``parse_settings``'s
    messages (ids given as JSON integers taken exactly), so a containing model's error names each setting."""
    if isinstance(value, ExportSettings):
        return value
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")  # the containing model names the field
    try:
        return parse_settings(exact_ids(value))
    except SettingsError as exc:
        raise ValueError("; ".join(exc.problems)) from None


# The type of a field holding job settings in another model (a job config, a state-machine payload): validated
# once where the JSON is read, serialised exactly (``ExportSettings.wire``) wherever it is written.
SettingsField = Annotated[
    ExportSettings, BeforeValidator(_validated), PlainSerializer(lambda settings: settings.wire(), when_used="json")
]


def load_settings(path: str | Path) -> ExportSettings:
    """Read and validate a settings JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SettingsError([f"settings file {path}: {exc}"]) from None
    return parse_settings(data)


def _describe(err: Any) -> list[str]:
    """Problem lines for one pydantic error, each naming the field; never the offending value."""
    loc = ".".join(str(part) for part in err["loc"] if not isinstance(part, int))
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return [f"{loc}: unknown setting"]
    if err["type"] == "missing":
        return [f"{loc}: required"]
    if not loc:  # cross-field rules already name their fields, several joined by "; "
        return msg.split("; ")
    return [f"{loc}: {msg}"]
