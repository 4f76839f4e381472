"""adsbridge: move advertising data between an AWS account and Amazon Ads."""

__version__ = "0.1.0"
