"""Street-address rule of the Amazon reference normaliser (AWS uploader ``address_normalizer.py``).

Steps, each reproducing the reference including its quirks:

1. strip, upper-case;
2. split into tokens at runs of whitespace, ``,``, ``!``, ``.``, brackets and the word ``C/O``
   (everything else — ``'``, ``/``, ``-``, ``#``, accented letters — stays inside tokens);
3. *dash* pass: ``123-B`` → ``123`` ``B`` (digits before the last ``-``, non-digits after);
4. *pound* pass: ``APT#5`` → ``APT`` ``#`` ``5`` (letters before ``#``, ``[0-9A-Z/-]`` after);
5. replace each token by its abbreviation from the country's word lists (``STREET`` → ``ST``,
   ``NORTH`` → ``N``, ``SUITE`` → ``STE``, ``#``/``NO``/``NUM`` → ``NUMBER``), later lists winning;
6. join without spaces and lower-case: ``100 North Main Street Suite 200`` → ``100nmainstste200``.

Quirks kept on purpose: both passes visit only as many positions as there were tokens before the pass, so
when a split pushes tokens right the last ones are not visited (``1-A 2-B`` → ``1a2-b``); the pound pass
replaces the whole token by the parts it matched (``5#A`` → ``#A``, the ``5`` is lost) and a second ``#`` in
one token overwrites the part after the first. Countries the reference does not support (it raises) get the
default street suffixes, like CA/DE/JP/IN.
"""

from __future__ import annotations

import re

from adsbridge.identity.address_words import COUNTRY_LISTS, DEFAULT_ORDER, DIRECTIONALS, NUMBER_WORDS

# Step 2 in one regex split; the ``\bC/O\b`` branch is slow, so it is only used when a ``/`` is present.
_DELIMITERS = re.compile(r"[\s,!.()\[\]{}]+")
_DELIMITERS_CO = re.compile(r"(?:[\s,!.()\[\]{}]|\bC/O\b)+")
_POUND = re.compile(r"([A-Z]*)#([0-9A-Z/-]*)")


def _split_dashes(tokens: list[str]) -> None:
    for i in range(len(tokens)):  # positions fixed up front, as in the reference
        word = tokens[i]
        cut = word.rfind("-")
        if 0 < cut < len(word) - 1:
            head, tail = word[:cut], word[cut + 1 :]
            if head.isnumeric() and not tail.isnumeric():
                tokens[i : i + 1] = [head, tail]


def _split_pounds(tokens: list[str]) -> None:
    for i in range(len(tokens)):
        at = i
        for match in _POUND.finditer(tokens[i]):
            head, tail = match.groups()
            if head and tail:
                tokens[at : at + 1] = [head, "#", tail]
                at += 2
            elif head:
                tokens[at : at + 1] = [head, "#"]
                at += 1
            elif tail:
                tokens[at : at + 1] = ["#", tail]
                at += 1


class AddressRule:
    """The address rule for one country; its word table (variant → abbreviation) is built once."""

    __slots__ = ("_lookup", "words")

    def __init__(self, country: str) -> None:
        words: dict[str, str] = {}
        for table in (NUMBER_WORDS, DIRECTIONALS, *COUNTRY_LISTS.get(country, DEFAULT_ORDER)):
            for abbreviation, variants in table.items():
                for variant in variants.split():
                    words[variant] = abbreviation
        # identity entries only mattered for overriding; dropping them keeps the table small
        self.words = {variant: abbreviation for variant, abbreviation in words.items() if variant != abbreviation}
        self._lookup = self.words.get

    def __call__(self, value: str) -> str | None:
        text = value.upper()  # no strip needed: outer whitespace only yields empty tokens
        tokens = (_DELIMITERS_CO if "/" in text else _DELIMITERS).split(text)
        if "-" in text or "#" in text:
            # the passes count positions, so the empty tokens a leading/trailing delimiter leaves must go
            tokens = [token for token in tokens if token]
            if "-" in text:
                _split_dashes(tokens)
            if "#" in text:
                _split_pounds(tokens)
        return "".join(map(self._lookup, tokens, tokens)).lower() or None
