"""Seeded generator of messy, realistic audience rows for the demo and the benchmarks (all eight PII fields +
countrycode + externaluserid; mostly US; mixed case, stray spaces, punctuation, unit designators,
directionals, ``+``-prefixed phones, ZIP+4, full state names, accents, some invalid/empty cells, some
pre-hashed emails). Fictional data only. With ``bad_share`` some rows are broken as real exports are (no or
an overlong external id, an unknown country), so the demo's report shows skips of each kind.
"""

from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from adsbridge.identity.countries import UK_EEA

HEADER = [
    "externaluserid",
    "firstname",
    "lastname",
    "email",
    "phone",
    "address",
    "city",
    "state",
    "postal",
    "countrycode",
]
PII = ("firstname", "lastname", "email", "phone", "address", "city", "state", "postal")

COUNTRY_WEIGHTS = {
    "US": 60,
    "GB": 8,
    "DE": 6,
    "FR": 5,
    "CA": 5,
    "ES": 3,
    "IT": 3,
    "JP": 3,
    "IN": 3,
    "NL": 1,
    "AU": 1,
    "BR": 1,
    "MX": 1,
}

FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret "
    "Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa "
    "George Deborah Timothy Stephanie José María Zoë Chloé Renée André Jürgen Müller Søren Øyvind Æsa Björn Günther "
    "François Hélène Ángel Lucía Giulia Matteo Hiroshi Yuki Priya Rahul Ananya Mohammed Fatima Olivia Noah Liam "
    "Emma Ava Sophia Isabella Mia Lucas Mason Ethan Logan Jacob Jackson Aiden Elijah Grace Chloe Lily Zoe Anne-Marie "
    "Jean-Luc Mary-Kate O'Neil D'Arcy"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
    "Dubois Lefèvre Moreau Laurent Girard Rossi Russo Ferrari Esposito Bianchi García Fernández González Martín "
    "Sato Suzuki Takahashi Tanaka Sharma Patel Singh Kumar O'Brien McDonald van der Berg De La Cruz Smith-Jones "
    "Ødegård Strauß Kühn Jørgensen Æbelø"
).split()
SYLLABLES = "ka ro mi ne lo ta ver shin dal brook ham ton ley field wood mar son berg ski ova ez ini ard".split()
DOMAINS = (
    "gmail.com yahoo.com hotmail.com outlook.com icloud.com aol.com example.com web.de orange.fr libero.it".split()
)
STREETS = (
    "Main Oak Pine Maple Cedar Elm Washington Lake Hill Park Sunset Lincoln Jackson Church Highland Meadow "
    "Bluestem Butterfield Melrose Messerschmidt Fisk Cody Eastlawn Summer Ridge Carioca Forest River Spring"
).split()
US_SUFFIXES = (
    "Street St St. Avenue Ave Ave. Road Rd Drive Dr Lane Ln Boulevard Blvd Court Ct Terrace Plaza Way Circle "
    "Parkway Place Junction Hill Trail Highway"
).split()
DIRECTIONS = "North South East West N S E W NE NW Northeast Southwest".split()
UNITS = ("Apt 5", "Apt. #12", "Suite 200", "Ste 4", "#7", "Unit 3B", "Apt #5", "Fl 2", "Bldg C", "Room 101", "APT 9-B")
CITIES = {
    "US": [
        *"Dallas Wichita Austin Seattle Boston Denver Chicago Houston Phoenix Portland Miami Atlanta".split(),
        "New York",
        "San Francisco",
        "Los Angeles",
        "St. Louis",
        "Salt Lake City",
    ],
    "GB": "London Manchester Birmingham Leeds Glasgow Liverpool Bristol Sheffield Edinburgh Cardiff".split(),
    "DE": "Berlin Hamburg München Köln Frankfurt Stuttgart Düsseldorf Dortmund Essen Leipzig".split(),
    "FR": [*"Paris Marseille Lyon Toulouse Nice Nantes Strasbourg Montpellier Bordeaux Lille".split(), "Saint-Étienne"],
    "CA": "Toronto Montréal Vancouver Calgary Edmonton Ottawa Winnipeg Québec Hamilton Halifax".split(),
    "ES": "Madrid Barcelona Valencia Sevilla Zaragoza Málaga Murcia Palma Bilbao Alicante".split(),
    "IT": "Roma Milano Napoli Torino Palermo Genova Bologna Firenze Bari Catania".split(),
    "JP": "Tokyo Yokohama Osaka Nagoya Sapporo Fukuoka Kobe Kyoto Kawasaki Saitama".split(),
    "IN": "Mumbai Delhi Bangalore Hyderabad Ahmedabad Chennai Kolkata Surat Pune Jaipur".split(),
}
STATES = {
    "US": [
        "Texas",
        "TX",
        "tx",
        "New York",
        "NY",
        "N.Y.",
        "California",
        "CA",
        "Calif.",
        "VIRGINIA",
        "va",
        "Kansas",
        "Florida",
        "fl",
        "Colorado",
        "GEORGIA",
        "Washington",
        "Ohio",
        "New Jersey",
        "North Carolina",
    ],
    "CA": ["Ontario", "ON", "Québec", "QC", "British Columbia", "BC", "Alberta", "Nouveau-Brunswick"],
    "DE": ["Bayern", "Bavaria", "BY", "Berlin", "Hessen", "Hesse", "Baden-Württemberg", "Sachsen", "NRW"],
    "FR": ["Île-de-France", "Alsace", "Brittany", "Bretagne", "Languedoc-Roussillon", "Rhône-Alpes", "IDF"],
    "ES": ["Madrid", "Barcelona", "Valencia", "Sevilla", "Castilla - La Mancha", "Málaga", "M", "B"],
    "IT": ["Roma", "Milan", "Milano", "Florence", "Firenze", "Friuli-Venezia Giulia", "MI", "RM"],
    "IN": ["Gujarat", "Maharashtra", "Uttar Pradesh", "Karnataka", "Delhi", "GJ", "MH"],
    "JP": ["Tokyo", "Osaka", "Hokkaido", "Aichi"],
    "GB": ["England", "Scotland", "Wales", "Greater London"],
}
CALLING = {"US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33", "ES": "34", "IT": "39", "JP": "81", "IN": "91"}
CALLING |= {"NL": "31", "AU": "61", "BR": "55", "MX": "52"}


class RowMaker:
    """Seeded generator of one messy audience row at a time."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.countries = list(COUNTRY_WEIGHTS)
        self.weights = list(COUNTRY_WEIGHTS.values())

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def messy_case(self, text: str) -> str:
        roll = self.rng.random()
        if roll < 0.15:
            text = text.upper()
        elif roll < 0.25:
            text = text.lower()
        if self.chance(0.1):
            text = f" {text}  "
        return text

    def digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def first(self) -> str:
        return self.messy_case(self.rng.choice(FIRST))

    def last(self) -> str:
        if self.chance(0.4):  # long tail
            name = "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4))).title()
        else:
            name = self.rng.choice(LAST)
        return self.messy_case(name)

    def email(self, first: str, last: str) -> str:
        roll = self.rng.random()
        if roll < 0.03:
            return ""
        if roll < 0.05:
            return self.rng.choice(["n/a", "none", "john at example dot com", "@example.com"])
        user = f"{first.strip()}.{last.strip()}{self.rng.randint(1, 9999)}".replace(" ", "")
        if self.chance(0.1):
            user += f"+{self.rng.choice(['news', 'shop', 'ads'])}"
        address = f"{user}@{self.rng.choice(DOMAINS)}"
        if roll < 0.10:
            digest = hashlib.sha256(address.lower().encode()).hexdigest()
            return digest.upper() if self.chance(0.3) else digest
        return self.messy_case(address)

    def phone(self, country: str) -> str:
        roll = self.rng.random()
        if roll < 0.04:
            return ""
        if roll < 0.06:
            return self.rng.choice(["12345", "n/a", "000", "555-CALL-NOW"])
        code = CALLING[country]
        if country in ("US", "CA"):
            area, mid, end = f"{self.rng.randint(201, 989)}", f"{self.rng.randint(200, 999)}", self.digits(4)
            style = self.rng.choice(["({a}) {m}-{e}", "{a}-{m}-{e}", "{a}.{m}.{e}", "{a}{m}{e}", "+1 {a} {m} {e}"])
            style = style if not self.chance(0.1) else "1-{a}-{m}-{e}"
            return style.format(a=area, m=mid, e=end)
        national = f"{self.rng.randint(1, 9)}{self.digits(self.rng.choice([8, 9]))}"
        if self.chance(0.4):
            return f"+{code} {national[:3]} {national[3:]}"
        if self.chance(0.3) and country not in ("IT", "ES"):
            return f"0{national[:3]} {national[3:]}"
        return f"{national[:3]}-{national[3:6]}-{national[6:]}"

    def address(self, country: str) -> str:
        if self.chance(0.03):
            return ""
        number = str(self.rng.randint(1, 19999))
        street = self.rng.choice(STREETS)
        if country == "DE":
            text = f"{street}{self.rng.choice(['straße', 'str.', 'weg', ' Allee'])} {number}"
        elif country == "FR":
            text = f"{number} {self.rng.choice(['rue', 'avenue', 'boulevard', 'allée'])} de la {street}"
        elif country == "ES":
            text = f"Calle {street} {number}, {self.rng.randint(1, 9)}º {self.rng.choice('ABCD')}"
        elif country == "IT":
            text = f"{self.rng.choice(['Via', 'Piazza', 'Viale'])} {street} {number}"
        elif country == "JP":
            text = f"{self.rng.randint(1, 9)}-{self.rng.randint(1, 30)}-{self.rng.randint(1, 20)} {street}"
        elif country == "GB" and self.chance(0.3):
            text = f"Flat {self.rng.randint(1, 30)}, {number} {street} {self.rng.choice(['Road', 'Lane', 'Close'])}"
        else:
            if self.chance(0.1):
                number += f"-{self.rng.choice('ABC')}"
            parts = [number]
            if self.chance(0.25):
                parts.append(self.rng.choice(DIRECTIONS))
            parts += [street, self.rng.choice(US_SUFFIXES)]
            if self.chance(0.3):
                parts.append(("," if self.chance(0.5) else "") + " " + self.rng.choice(UNITS))
            text = " ".join(parts).replace(" ,", ",")
        return self.messy_case(text)

    def city(self, country: str) -> str:
        return self.messy_case(self.rng.choice(CITIES.get(country, ["Amsterdam", "Sydney", "São Paulo", "Puebla"])))

    def state(self, country: str) -> str:
        if self.chance(0.05):
            return ""
        return self.messy_case(self.rng.choice(STATES.get(country, ["NH", "Noord-Holland", "NSW", "SP"])))

    def postal(self, country: str) -> str:
        if self.chance(0.03):
            return self.rng.choice(["", "n/a", "123"])
        rng = self.rng
        if country == "US":
            zip5 = self.digits(5)
            return rng.choice([zip5, zip5, f"{zip5}-{self.digits(4)}", f" {zip5} "])
        if country == "CA":
            letters = "ABCEGHJKLMNPRSTVXY"
            code = f"{rng.choice(letters)}{rng.randint(0, 9)}{rng.choice(letters)}"
            return f"{code} {rng.randint(0, 9)}{rng.choice(letters)}{rng.randint(0, 9)}"
        if country == "GB":
            return rng.choice(["SW1A 1AA", "EC1A 1BB", "W1A 0AX", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT"])
        if country == "JP":
            return f"{self.digits(3)}-{self.digits(4)}"
        if country == "IN":
            return self.digits(6)
        if country == "NL":
            return f"{self.digits(4)} {rng.choice(['AB', 'CD', 'XY'])}"
        return self.digits(5)

    def row(self, number: int) -> tuple[str, list[str]]:
        """The row's true country (its cell may be blank, lower case or "UK") and the row."""
        country = self.rng.choices(self.countries, self.weights)[0]
        first, last = self.first(), self.last()
        shown = country
        roll = self.rng.random()
        if country == "US" and roll < 0.3:
            shown = ""  # the default country applies
        elif roll < 0.1:
            shown = country.lower()
        elif country == "GB" and roll < 0.3:
            shown = "UK"
        return country, [
            f"u{number:08d}",
            first,
            last,
            self.email(first, last),
            self.phone(country),
            self.address(country),
            self.city(country),
            self.state(country),
            self.postal(country),
            shown,
        ]

    def broken(self, row: list[str]) -> list[str]:
        """The row with one fault the exporter must skip: a missing or invalid external id, or country."""
        fault = self.rng.randrange(3)
        if fault == 0:
            return ["", *row[1:]]
        if fault == 1:
            return ["x" * 200, *row[1:]]
        return [*row[:-1], "ZZ"]


@dataclass(frozen=True)
class Generated:
    """What a generated file holds, known independently of the exporter: the demo's ground truth."""

    rows: int
    broken: int  # rows with a fault every export must skip
    uk_eea: int  # intact rows from the UK/EEA: without consent columns they are skipped by default

    @property
    def exportable(self) -> int:
        return self.rows - self.broken - self.uk_eea


def generate(path: Path, rows: int, seed: int, *, bad_share: float = 0.0) -> Generated:
    maker = RowMaker(seed)
    broken = uk_eea = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for number in range(rows):
            country, row = maker.row(number)
            if bad_share and maker.chance(bad_share):
                row, broken = maker.broken(row), broken + 1
            else:
                uk_eea += country in UK_EEA
            writer.writerow(row)
    return Generated(rows, broken, uk_eea)
