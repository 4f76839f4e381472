"""What to say about a CSV header whose columns are not recognised, without ever quoting a data line.

A header line cannot be told from a data line (``Jim,Lee,Seattle`` reads as either), so a cell is echoed
only when it is a column name adsbridge knows: a name it accepts or a common spelling of one (``E-mail``,
``first_name``, ``zip``); the other cells are only counted, and a line with none suggests a missing header
row. adsbridge reads comma-separated CSV (README, "Input file"); a first line that is one cell holding
``;``, a tab or ``|`` is described as split on that, so the message can say which delimiter it looks like.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from adsbridge.export.consent import AMZN_COLUMNS, STRING_COLUMNS
from adsbridge.identity import PII_FIELDS

EXTERNAL_USER_ID, COUNTRY_CODE = "externaluserid", "countrycode"
KNOWN_COLUMNS = (EXTERNAL_USER_ID, COUNTRY_CODE, *PII_FIELDS, *AMZN_COLUMNS, *STRING_COLUMNS)
# Common spellings of the accepted names, keyed as _squash leaves them (lower-case letters and digits only);
# a name that squashes to an accepted one (``E-mail``, ``first_name``) needs no entry. No entry may be a
# plausible value (``Mobile`` and ``Street`` are a city and a surname), since a known name is echoed.
SPELLINGS = {
    "emailaddress": "email", "mailaddress": "email",
    "phonenumber": "phone", "telephone": "phone", "mobilephone": "phone", "cellphone": "phone",
    "fname": "firstname", "givenname": "firstname", "forename": "firstname",
    "lname": "lastname", "surname": "lastname", "familyname": "lastname",
    "streetaddress": "address", "address1": "address", "addressline1": "address",
    "province": "state", "statecode": "state",
    "zip": "postal", "zipcode": "postal", "postcode": "postal", "postalcode": "postal",
    "country": COUNTRY_CODE,
    "id": EXTERNAL_USER_ID, "userid": EXTERNAL_USER_ID, "externalid": EXTERNAL_USER_ID, "customerid": EXTERNAL_USER_ID,
}  # fmt: skip
DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
_NAMES_MAX = 30
_NAME_MAX = 64


def _squash(name: str) -> str:
    return re.sub("[^a-z0-9]", "", name.lower())


def known(name: str) -> bool:
    """Whether ``name`` is, but for case and punctuation, a column adsbridge knows or a spelling of one."""
    key = _squash(name)
    return key in KNOWN_COLUMNS or key in SPELLINGS


def meant(name: str, accepted: Collection[str]) -> str | None:
    """The accepted column ``name`` is a spelling of (``E-mail`` → ``email``), or None when it is not one
    or already is that name (as rows match it: stripped, lower-cased)."""
    key = _squash(name)
    target = key if key in KNOWN_COLUMNS else SPELLINGS.get(key)
    return target if target in accepted and target != name.strip().lower() else None


def describe_header(cells: Sequence[str], accepted: Collection[str]) -> tuple[list[str], str]:
    """What the first line of a CSV looked like, for an error about its header; never a data line.

    Returns notes (the delimiter assumed, another it looks like, "did you mean" hints towards ``accepted``)
    and what was found: the known names and how many others, or a count that suggests a missing header row.
    """
    notes = ["read as comma-separated"]
    if cells and cells[0].lstrip().startswith(("{", "[")):
        return [*notes, "the first line looks like JSON, not a CSV header"], f"{len(cells)} column(s), not shown"
    names = list(cells)
    if len(names) == 1:
        for delimiter, word in DELIMITERS.items():
            if delimiter in names[0]:
                notes.append(f"it looks {word}-separated, but only commas separate columns")
                names = names[0].split(delimiter)
                break
    shown = [name.strip()[:_NAME_MAX] for name in names if known(name)]
    if not shown:
        return notes, f"{len(names)} column(s), none a known name: is the header row missing?"
    hints = [f"{name.strip()} → {target}" for name in names if (target := meant(name, accepted))]
    if hints:
        notes.append("did you mean " + ", ".join(hints[:_NAMES_MAX]))
    others = len(names) - len(shown)
    return notes, "found: " + ", ".join(shown[:_NAMES_MAX]) + (f" and {others} other column(s)" if others else "")
