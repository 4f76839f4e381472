"""Comments cite the project's own docs: every ``docs/<file>#<anchor>`` exists, and nothing outside the repo is cited.

The research notes the code was written from live outside the repository; their facts, with public sources, are
restated in docs/amc-audiences-api.md, docs/marketing-stream.md and docs/hashing.md. A citation of a bare
section sign, of the external notes' directory, or of a docs file or heading that does not exist is a dead
reference for every reader of the repo, so it fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED_DIRS = ("functions", "infra", "tests", "bench", "scripts")
SCANNED_SUFFIXES = frozenset({".py", ".sql", ".toml", ".md"})
SKIPPED_DIRS = frozenset({"__pycache__", ".venv", "node_modules", ".build", "cdk.out", ".pytest_cache"})

# Written with escapes so that this file does not cite them itself.
SECTION_SIGN = "\u00a7"
OUTSIDE_PATH = re.compile(r"\.\./shared|shared[/]reference")
# The external notes by name, or a note file name not under docs/.
NOTES_NAME = re.compile(
    r"\bAPI[ ]notes\b"
    r"|(?<![\w/.-])(?:\.\./)*(?:amc-audiences-api|marketing-stream|stream-v2|serverless-python-patterns)[.]md"
)
# A repo-relative docs path, optionally with an anchor; not the tail of a URL such as ``…/API/docs/en-us/…``.
DOCS_REF = re.compile(r"(?<![\w/.-])docs/([\w./-]*\w)(?:#([\w-]+))?")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def scanned_files() -> list[Path]:
    files = [ROOT / "Makefile", ROOT / "pyproject.toml"]
    for top in SCANNED_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            if SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts) or not path.is_file():
                continue
            if path.suffix in SCANNED_SUFFIXES or path.name == "Makefile":
                files.append(path)
    return [path for path in files if path.is_file()]


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower-case, punctuation dropped, spaces → hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match:
            slug = github_slug(match.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


FILES = scanned_files()


def _citations() -> list[tuple[str, str, str | None]]:
    cited = []
    for path in FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for match in DOCS_REF.finditer(line):
                cited.append((f"{path.relative_to(ROOT)}:{number}", match.group(1), match.group(2)))
    return cited


CITATIONS = _citations()


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Records", "records"),
        ("Retries and throttling", "retries-and-throttling"),
        ("`metadata.ttl` (seconds)", "metadatattl-seconds"),
        ("Pre-hashed values", "pre-hashed-values"),
        ("UNVERIFIED", "unverified"),
    ],
)
def test_github_slug(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_duplicate_headings_get_numbered_anchors() -> None:
    assert anchors("# A\n## Notes\n```\n# not a heading\n```\n## Notes\n") == {"a", "notes", "notes-1"}


def test_the_scan_sees_the_code_and_its_citations() -> None:
    scanned = {path.relative_to(ROOT).as_posix() for path in FILES}
    assert "functions/adsbridge/settings.py" in scanned
    assert "functions/adsbridge/stream/sql/metric_dedup.sql" in scanned
    assert any(anchor for _, _, anchor in CITATIONS)


def test_no_bare_section_signs_or_external_notes() -> None:
    bad = []
    for path in FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if SECTION_SIGN in line or OUTSIDE_PATH.search(line) or NOTES_NAME.search(line):
                bad.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not bad, "cite docs/<file>.md#<anchor> instead:\n" + "\n".join(bad)


def test_docs_citations_exist() -> None:
    bad = []
    for where, target, anchor in CITATIONS:
        doc = ROOT / "docs" / target
        if not doc.is_file():
            bad.append(f"{where}: docs/{target} does not exist")
        elif anchor is not None and anchor not in anchors(doc.read_text(encoding="utf-8")):
            bad.append(f"{where}: docs/{target} has no heading for #{anchor}")
    assert not bad, "\n".join(bad)


def test_docs_cite_no_notes_outside_the_repo() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "docs").glob("*.md"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE_PATH.search(line) or "/work/" in line
    ]
    assert not bad, "docs must cite public sources, not notes outside the repo: " + ", ".join(bad)
