"""Audience export: read rows, normalise and hash them, upload them to an AMC/DSP audience, report."""
