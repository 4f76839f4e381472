"""Marketing Stream v2: Amazon's Parquet files in the advertiser's bucket, catalogued in Glue, viewed in Athena.

Every fact about Amazon's side that is not yet verified lives in ``amazon.py``; the rest follows from it.
"""
