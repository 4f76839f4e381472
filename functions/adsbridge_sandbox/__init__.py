"""adsbridge's dev tooling, apart from the runtime package: never bundled into a Lambda.

The Amazon Ads API emulator, the demo, the local Lambda and state-machine runners, the synthetic Marketing
Stream and DuckDB standing in for Athena. It depends on ``adsbridge`` (and on ``infra`` for the state
machine's definition), never the other way round; ``make setup`` installs it with the runtime package, and its
commands (``adsbridge demo``, ``adsbridge emulator``) join the CLI through the ``adsbridge.commands`` entry points.
"""
