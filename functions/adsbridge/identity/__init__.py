"""PII normalisation and SHA-256 hashing with the same output as Amazon's reference normalisers.

Parity target: the AWS "Amazon Marketing Cloud uploader" normalisers (``source/glue/library``), which
reproduce the expected hashes of their per-country test data, and the amzn audience-normalisation SDK
(same address algorithm). Field rules and their quirks are described in each module: :mod:`.emails`,
:mod:`.names` (first/last name, city), :mod:`.address`, :mod:`.state`, :mod:`.postal`, :mod:`.phones`.
Countries with their own rules: US CA GB (alias UK) DE FR ES IT JP IN; any other code gets the defaults.

Deliberate differences from the reference, and why:

* An empty or invalid value yields None (the field is omitted) instead of ``sha256("")``: a hash of nothing
  can only produce false matches or be ignored, and the audience API does not need the key.
* A value that already is a SHA-256 hex digest passes through lower-cased, in any case and with outer
  spaces ignored; the reference accepts only lower-case hex (``^[a-f0-9]{64}$``). Upper-case hex from other
  tools is still a hash, and hashing it again would make it unmatchable. A pre-hashed value is its own
  normal form, so :func:`normalize` returns it too — except ``sha256("")``, which is empty (None).
* Phone follows the expected hashes of the reference *test data* (E.164 via ``phonenumbers`` with the row's
  country as default region), not the reference's phone code, which does not reproduce them.
* Address for countries the reference rejects uses the default street suffixes (as CA/DE/JP/IN); address
  word-list entries containing ``.`` are dropped because the tokeniser can never produce them.
"""

from __future__ import annotations

from collections.abc import Mapping

from adsbridge.identity.normalizer import PII_FIELDS, Normalizer, normalizer_for, prehashed

__all__ = ["PII_FIELDS", "Normalizer", "hash_pii", "normalize", "normalizer_for", "prehashed"]


def normalize(field: str, value: str, country: str) -> str | None:
    """Normal form of one PII value for ``country``, or None when it is empty/invalid (omit the field).

    Raises ValueError for a field name not in :data:`PII_FIELDS` (the message never contains the value).
    """
    return normalizer_for(country).normalize(field, value)


def hash_pii(values: Mapping[str, str | None], country: str) -> dict[str, str]:
    """``{field: sha256 hex}`` for the :data:`PII_FIELDS` in ``values`` that normalise to something.

    Other keys are ignored; pre-hashed 64-hex values pass through lower-cased.
    """
    return normalizer_for(country).hash_all(values)
