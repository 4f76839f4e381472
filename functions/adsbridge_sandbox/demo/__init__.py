"""``adsbridge demo``: both pipelines end to end on one machine, against moto and the Ads API emulator."""
