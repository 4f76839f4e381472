"""adsbridge: move advertising data between an AWS account and Amazon Ads."""

__version__ = "0.1.0"
# CloudWatch namespace of every adsbridge metric; explicit in code so no handler depends on an env var for it.
METRICS_NAMESPACE = "adsbridge"
