"""The audience registry's two adapters: where the CLI's file lives, and first-writer-wins in S3 and on disk."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import boto3
import pytest

from adsbridge.export.registry import AudienceKey, LocalRegistry, RegistryError, S3Registry, state_dir
from adsbridge.settings import parse_settings

BUCKET = "adsbridge-unit-state"
KEY = AudienceKey("NA", "amc1", "ENTITY1", None, "crm/vip list")


def test_state_dir_override_then_xdg_then_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir({}) == tmp_path / "home/.local/state/adsbridge"
    assert state_dir({"XDG_STATE_HOME": "relative/ignored"}) == tmp_path / "home/.local/state/adsbridge"
    assert state_dir({"XDG_STATE_HOME": "/xdg"}) == Path("/xdg/adsbridge")
    assert state_dir({"XDG_STATE_HOME": "/xdg", "ADSBRIDGE_STATE_DIR": str(tmp_path / "s")}) == tmp_path / "s"
    monkeypatch.setenv("ADSBRIDGE_STATE_DIR", str(tmp_path / "env"))
    assert LocalRegistry.default().path == tmp_path / "env/audiences.json"


def test_key_names_the_effective_owner() -> None:
    base = {"amc_instance_id": "amc1", "country_code": "US", "external_audience_id": "x", "audience_name": "VIP customers",
            "dsp_advertiser_id": "42"}  # fmt: skip
    assert AudienceKey.of(parse_settings(base)).dsp_advertiser_id is None  # AMC only: the advertiser is unused
    dsp = AudienceKey.of(parse_settings({**base, "target": "AMC_AND_DSP", "region": "EU"}))
    assert (dsp.region, dsp.dsp_advertiser_id) == ("EU", "42")
    assert KEY.path() == "NA/amc1/ENTITY1/-/crm%2Fvip%20list"


def test_local_registry_records_once_atomically(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "state/audiences.json")
    assert registry.find(KEY) is None
    assert registry.record(KEY, 361054992504331123) == 361054992504331123
    assert LocalRegistry(registry.path).record(KEY, 2) == 361054992504331123  # a second first run: the first wins
    assert registry.find(KEY) == 361054992504331123
    document = json.loads(registry.path.read_text())
    assert document["audiences"][KEY.path()]["audience_id"] == "361054992504331123"  # exact, as a string
    assert stat.S_IMODE(registry.path.stat().st_mode) == 0o600
    assert sorted(p.name for p in registry.path.parent.iterdir()) == ["audiences.json", "audiences.json.lock"]


def test_a_damaged_local_registry_is_named(tmp_path: Path) -> None:
    path = tmp_path / "audiences.json"
    path.write_text("{not json")
    with pytest.raises(RegistryError, match=f"audience registry {path} is damaged: delete it to reset"):
        LocalRegistry(path).find(KEY)


@pytest.fixture
def s3(moto_aws: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


class LateFirstRun:
    """An S3 client whose first conditional create is preceded by another run's record: the race two first runs
    of one job have (both found no record, both created; Amazon took both external ids, UNVERIFIED)."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3
        self.exceptions = s3.exceptions
        self.raced = False

    def put_object(self, **kwargs: Any) -> Any:
        if not self.raced and kwargs.get("IfNoneMatch") == "*":
            self.raced = True
            assert S3Registry(self._s3, BUCKET).record(KEY, 111) == 111
        return self._s3.put_object(**kwargs)

    def get_object(self, **kwargs: Any) -> Any:
        return self._s3.get_object(**kwargs)


def test_s3_registry_two_first_runs_cannot_both_record(s3: Any) -> None:
    late = S3Registry(LateFirstRun(s3), BUCKET)
    assert late.find(KEY) is None
    assert late.record(KEY, 222) == 111  # the conditional PUT lost: the audience on record is used
    assert S3Registry(s3, BUCKET).find(KEY) == 111
    key = "audiences/NA/amc1/ENTITY1/-/crm%2Fvip%20list.json"
    assert late.location(KEY) == f"s3://{BUCKET}/{key}"
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert stored["audience_id"] == "111" and stored["external_audience_id"] == "crm/vip list"


def test_s3_registry_recording_the_same_id_again_rewrites_it(s3: Any) -> None:
    registry = S3Registry(s3, BUCKET)
    registry.record(KEY, 111)
    key = "audiences/NA/amc1/ENTITY1/-/crm%2Fvip%20list.json"
    before = s3.head_object(Bucket=BUCKET, Key=key)["ETag"]
    assert registry.record(KEY, 111) == 111  # a reuse: the object is written again, younger than the expiry
    assert s3.head_object(Bucket=BUCKET, Key=key)["ETag"] != before  # recorded_at changed with it


def test_a_damaged_s3_record_is_named(s3: Any) -> None:
    registry = S3Registry(s3, BUCKET)
    s3.put_object(Bucket=BUCKET, Key=registry.location(KEY).removeprefix(f"s3://{BUCKET}/"), Body=b"[]")
    with pytest.raises(RegistryError, match="is damaged"):
        registry.find(KEY)
