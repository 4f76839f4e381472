"""The catalogue: all 23 datasets, Amazon's accounts per realm, keys that exist."""

import json
from importlib import resources

import pytest

from adsbridge.stream import datasets
from adsbridge.stream.datasets import Kind, Realm

ACCOUNTS = json.loads((resources.files("adsbridge.stream") / "data/ams_sns_source_accounts.json").read_text())


def test_all_23_datasets_with_their_kinds() -> None:
    kinds = {d.id: d.kind for d in datasets.catalogue().values()}
    assert len(kinds) == 23
    assert sum(k is Kind.METRIC for k in kinds.values()) == 12
    assert sum(k is Kind.ENTITY for k in kinds.values()) == 8
    assert kinds["budget-usage"] is Kind.OTHER


@pytest.mark.parametrize("realm", list(Realm))
def test_sns_source_arn_matches_research(realm: Realm) -> None:
    for dataset_id, by_realm in ACCOUNTS["accounts"].items():
        assert datasets.get(dataset_id).sns_source_arn(realm) == by_realm[realm.value]["snsSourceArn"]
    assert realm.aws_region == ACCOUNTS["_aws_region"][realm.value]


def test_sp_traffic_keys_are_amazons() -> None:
    keys = datasets.get("sp-traffic").keys
    assert keys == (
        "advertiser_id", "marketplace_id", "time_window_start", "campaign_id", "ad_group_id", "ad_id",
        "keyword_id", "keyword_text", "placement", "currency",
    )  # fmt: skip
    assert set(datasets.get("sp-conversion").keys) == set(keys) - {"keyword_text"}


def test_measures_are_numeric_and_never_keys() -> None:
    for dataset in datasets.catalogue().values():
        if dataset.is_metric:
            assert dataset.measures
            assert not set(dataset.measures) & set(dataset.keys)
            assert "idempotency_id" not in dataset.keys
        else:
            assert dataset.measures == ()


def test_unknown_dataset() -> None:
    with pytest.raises(datasets.UnknownDataset):
        datasets.get("retail-sales-metrics")


# The top-level fields of each entity, budget and recommendation dataset's field table in Amazon's guide
# (datasets/sponsored-ads-campaign-management, dsp-campaign-management, budget-usage and sponsored-ads-campaign-
# diagnostics-recommendations, as crawled 2025-09-16; targets' per-type objects from its sample). A dotted field such as budget.budgetCap.monetaryBudget.amount is kept as its top-level JSON object.
DOCUMENTED = {
    "campaigns": "dataset_id advertiser_id marketplace_id campaignId accountId portfolioId adProduct productLocation "
    "version name startDateTime endDateTime state tags targetingSettings budget bidSetting audit",
    "adgroups": "dataset_id advertiser_id marketplace_id adGroupId name version accountId campaignId adProduct "
    "bidValue state audit",
    "ads": "dataset_id advertiser_id marketplace_id adId name version accountId adGroupId campaignId adProduct "
    "customText asin sku landingPage state audit",
    "targets": "dataset_id advertiser_id marketplace_id targetId accountId adGroupId campaignId version adProduct "
    "state targetType negative bid currencyCode keywordTarget productTarget productAudienceTarget "
    "productCategoryTarget productCategoryAudienceTarget audienceTarget autoTarget audit",
    "adsp-campaigns": "dataset_id advertiser_id marketplace_id dspEntityId campaignId name version creationDateTime "
    "lastUpdatedDateTime currencyCode state optimization fees frequencies budgetCaps tags",
    "adsp-campaign-flights": "dataset_id advertiser_id marketplace_id version dspEntityId campaignId flightId "
    "creationDateTime lastUpdatedDateTime startDateTime endDateTime budgetAmount",
    "adsp-adgroups": "dataset_id advertiser_id marketplace_id dspEntityId campaignId adgroupId name version "
    "startDateTime endDateTime state inventoryType creativeRotationType tags frequencies "
    "advertisedProductCategoryIds budgetCaps pacing bid optimization targetingSettings creationDateTime "
    "lastUpdatedDateTime",
    "adsp-adgroup-targets": "dataset_id advertiser_id marketplace_id dspEntityId campaignId adgroupId version "
    "creationDateTime lastUpdatedDateTime geoLocationTargets daypartTargets deviceTargets audienceTargets "
    "appTargets thirdPartyTargets",
    "budget-usage": "advertiser_id marketplace_id dataset_id budget_scope_id budget_scope_type "
    "advertising_product_type budget budget_usage_percentage usage_updated_timestamp",
    "sponsored-ads-campaign-diagnostics-recommendations": "recommendation_id advertiser_id marketplace_id dataset_id "
    "group_id apply_endpoint type published_date expiry_date explanation campaign_name campaign_id ad_product "
    "current_campaign_settings recommended_campaign_settings",
}


@pytest.mark.parametrize("dataset_id", sorted(DOCUMENTED))
def test_tables_carry_every_documented_field(dataset_id: str) -> None:
    """Not only the fields in the sample message: campaigns' sample lacks accountId and productLocation."""
    spelled = {key.lower() for column in datasets.get(dataset_id).columns for key in column.keys}
    assert set(DOCUMENTED[dataset_id].lower().split()) - spelled == set()
