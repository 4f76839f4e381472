"""CDK app for adsbridge: stacks, constructs and state-machine definitions."""
