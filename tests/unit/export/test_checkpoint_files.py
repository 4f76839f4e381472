"""The local run store (``adsbridge export``'s checkpoints): whole documents or none, created once, the state
machine's document names, and an input version that changes when the input does."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import IO

import pytest

from adsbridge.export import json_files, resume
from adsbridge.export.checkpoint import RunStateDamaged
from adsbridge.export.checkpoint_files import LOCAL_JOB, LocalRunStore, local_state
from adsbridge.export.prepare import Target
from adsbridge.export.resume import Checkpoints, input_version
from adsbridge.export.run import exception_reason
from adsbridge.export.run_claim import RunInProgress
from adsbridge.export.source import InputError, open_input
from adsbridge.settings import parse_settings

SETTINGS = parse_settings({"amc_instance_id": "amc1", "country_code": "US", "external_audience_id": "crm-1",
                           "audience_name": "High value customers"})  # fmt: skip
TARGET = Target(audience_id=361054992504331123, connection_id="c-1", to_dsp=True)


def test_documents_round_trip_under_the_state_machines_names(tmp_path: Path) -> None:
    store = LocalRunStore(tmp_path / "run")
    assert store.load("prepared.json") is None and store.chunk(0) is None and store.progress(0) is None
    store.save_progress(0, {"index": 0, "offset": 120})
    store.save_chunk(11, {"index": 11})
    store.save_chunk(2, {"index": 2})
    assert json.loads((tmp_path / "run/progress/000000.json").read_text()) == {"index": 0, "offset": 120}
    assert store.progress(0) == {"index": 0, "offset": 120}
    assert [result["index"] for result in store.chunks()] == [2, 11]  # finished results only, in chunk order


def test_a_write_that_fails_midway_leaves_the_previous_version_and_no_stray_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalRunStore(tmp_path)
    store.save("progress/000000.json", {"offset": 1})

    def crash(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(json_files.os, "fsync", crash)  # after the bytes were written, before the rename
    with pytest.raises(OSError, match="disk full"):
        store.save("progress/000000.json", {"offset": 2})
    assert store.load("progress/000000.json") == {"offset": 1}
    assert sorted(path.name for path in (tmp_path / "progress").iterdir()) == ["000000.json"]


def test_create_writes_once_and_keeps_the_first_document(tmp_path: Path) -> None:
    store, other = LocalRunStore(tmp_path), LocalRunStore(tmp_path)
    assert store.create("prepared.json", {"audience": "1"}) is True
    assert other.create("prepared.json", {"audience": "2"}) is False
    assert other.load("prepared.json") == {"audience": "1"}


def test_a_create_that_fails_midway_leaves_nothing_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalRunStore(tmp_path)

    def crash(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(json_files.os, "fsync", crash)
    with pytest.raises(OSError):
        store.create("prepared.json", {"audience": "1"})
    monkeypatch.undo()
    assert store.create("prepared.json", {"audience": "2"}) is True


def test_runs_live_in_the_state_directory_and_restart_forgets_only_its_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADSBRIDGE_STATE_DIR", str(tmp_path))
    for run in ("run-a", "run-b"):
        with local_state()(run) as store:
            store.save("prepared.json", {})
    assert (tmp_path / "checkpoints" / LOCAL_JOB / "run-a" / "prepared.json").is_file()
    with local_state(restart=True)("run-a") as store:
        assert store.load("prepared.json") is None
    with local_state()("run-b") as store:
        assert store.load("prepared.json") == {}


def test_a_local_inputs_version_changes_with_its_content_or_time_not_with_how_it_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "in.csv.gz"
    path.write_bytes(gzip.compress(b"externaluserid,email\n"))
    first = input_version(str(path))
    assert first.compressed and first.bucket == "" and first.key == str(path)
    monkeypatch.chdir(tmp_path)
    assert input_version("in.csv.gz") == first  # the resolved path
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    touched, touched_stat = input_version(str(path)), path.stat()
    assert touched.version != first.version
    path.write_bytes(gzip.compress(b"externaluserid,phone\n"))  # same length, written within one clock tick
    os.utime(path, ns=(touched_stat.st_atime_ns, touched_stat.st_mtime_ns))
    assert path.stat().st_size == touched_stat.st_size
    assert input_version(str(path)).version != touched.version
    plain = tmp_path / "in.csv"
    plain.write_bytes(b"externaluserid,email\n")
    assert not input_version(str(plain)).compressed


def test_a_run_is_held_by_one_process_at_a_time_and_restart_waits_its_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADSBRIDGE_STATE_DIR", str(tmp_path))
    with local_state()("run-a") as store:
        store.save("prepared.json", {})
        held = "run run-a is already being exported by another adsbridge export"
        with pytest.raises(RunInProgress, match=held), local_state(restart=True)("run-a"):
            pass
        with local_state()("run-b"):
            pass  # another run is not held
    with local_state(restart=True)("run-a") as store:
        assert store.load("prepared.json") is None


def test_a_create_killed_before_its_document_was_written_leaves_nothing_created(tmp_path: Path) -> None:
    """A kill (no cleanup runs) while the document is written: the name must not stand for a created document."""
    store = LocalRunStore(tmp_path)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child is killed at the write
        try:
            os.fsync = lambda _: os._exit(9)  # this process only: the document's bytes written, not yet linked
            store.create("prepared.json", {"audience": "1"})
        finally:
            os._exit(0)  # never back into pytest in the child
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 9
    assert store.load("prepared.json") is None
    assert store.create("prepared.json", {"audience": "2"}) is True
    assert store.load("prepared.json") == {"audience": "2"}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("prepared.json", ""),  # what a kill left before create wrote whole documents
        ("prepared.json", '{"run": {}}'),  # JSON, but not a prepared run
        ("progress/000000.json", '{"index": 0}'),  # no offset
        ("chunks/000000.json", '{"index": 0, "total_rec'),  # cut
    ],
)
def test_an_unreadable_state_document_names_the_folder_and_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str
) -> None:
    monkeypatch.setenv("ADSBRIDGE_STATE_DIR", str(tmp_path))
    source = tmp_path / "in.csv"
    source.write_bytes(b"externaluserid,email\n")
    settings = SETTINGS
    with Checkpoints.of(str(source), settings, local_state()) as saved:
        saved.prepare(TARGET, settings, "2026-01-01T00:00:00+00:00")
        folder = LocalRunStore.default(saved.run).folder
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    with pytest.raises(RunStateDamaged) as caught, Checkpoints.of(str(source), settings, local_state()) as saved:
        saved.resume_point() if saved.finished() is None else None
    assert str(folder) in str(caught.value) and name in str(caught.value)
    assert "adsbridge export --restart forgets it" in str(caught.value)
    assert exception_reason(caught.value) == f"RunStateDamaged: {caught.value}"


def test_a_run_that_cannot_resume_does_not_read_its_input_to_hash_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"externaluserid,email\n")

    def no_hash(*_: object) -> None:
        raise AssertionError("hashed an input whose version is never compared")

    monkeypatch.setattr(resume, "_sha256", no_hash)
    with Checkpoints.of(str(source), SETTINGS, None) as saved:
        assert saved.store is None
        assert saved.version.version == f"{source.stat().st_mtime_ns}:unhashed"
        assert saved.version.size == len(b"externaluserid,email\n")


def test_a_file_written_while_its_version_is_taken_has_no_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"externaluserid,email\nu1,a@example.com\n")
    hashed = resume._sha256

    def written_meanwhile(raw: IO[bytes], head: bytes) -> str:
        with path.open("ab") as more:
            more.write(b"u2,b@example.com\n")
        return hashed(raw, head)

    monkeypatch.setattr(resume, "_sha256", written_meanwhile)
    with pytest.raises(InputError, match="changed while it was read to take its version: run the export again"):
        input_version(str(path))


def test_a_file_opened_pinned_to_its_version_must_still_be_that_file(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"externaluserid,email\n")
    version = input_version(str(path))
    with open_input(str(path), pin=version.pin) as stream:
        assert stream.read() == b"externaluserid,email\n"
    other = tmp_path / "other.csv"
    other.write_bytes(b"externaluserid,phone\n")
    os.replace(other, path)  # another file at the path
    with (
        pytest.raises(InputError, match="was replaced or changed after its version was taken"),
        open_input(str(path), pin=version.pin),
    ):
        pass
