"""What a submission is checked for before anything is written: names, container, files, options,
and the release it names (against real files in local storage)."""

from __future__ import annotations

import pytest

from terrace.catalog import identity
from terrace.errors import InvalidInput
from terrace.platform.processing import JobDefaults
from terrace.platform.requests import ProcessingOptions, SubmitRequest
from terrace.platform.submit import Submission, validate
from terrace.storage import Storage

INPUT_CONTAINERS = JobDefaults().input_containers


def ask(file_name: str | list[str], **fields: object) -> SubmitRequest:
    body = {"dataset_id": "Floods", "resource_id": "jakarta", "file_name": file_name, **fields}
    return SubmitRequest.model_validate(body)


def checked(storage: Storage, file_name: str | list[str], **fields: object) -> Submission:
    return validate(storage, ask(file_name, **fields), INPUT_CONTAINERS)


def test_a_valid_request(storage: Storage) -> None:
    storage.put("bronze", "floods/jakarta.gpkg", b"not read here")
    submission = checked(storage, "floods/jakarta.gpkg")
    assert (submission.dataset_id, submission.resource_id) == ("floods", "jakarta")
    assert submission.data_type == "vector"
    assert submission.asset_id == identity.asset_id("floods", "jakarta")
    assert submission.submission_key == "sha256:" + storage.sha256("bronze", "floods/jakarta.gpkg")
    assert submission.release_id == identity.release_id(submission.asset_id, submission.submission_key)


def test_same_bytes_name_the_same_release_other_bytes_another(storage: Storage) -> None:
    storage.put("bronze", "a/dem.tif", b"one")
    storage.put("bronze", "b/dem.tif", b"one")
    storage.put("bronze", "c/dem.tif", b"two")
    first, again, other = (checked(storage, f"{d}/dem.tif") for d in "abc")
    assert first.release_id == again.release_id != other.release_id


def test_a_version_names_the_release(storage: Storage) -> None:
    storage.put("bronze", "dem.tif", b"one")
    submission = checked(storage, "dem.tif", version_id="V1")
    assert submission.submission_key == "version:v1"
    storage.put("bronze", "dem.tif", b"changed")
    assert checked(storage, "dem.tif", version_id="v1").release_id == submission.release_id


def test_several_rasters_are_one_collection_release(storage: Storage) -> None:
    for name in ("t/a.tif", "t/b.tif"):
        storage.put("bronze", name, name.encode())
    submission = checked(storage, ["t/a.tif", "t/b.tif"])
    assert submission.data_type == "raster_collection"
    assert submission.submission_key.count(",") == 1


def test_a_missing_file_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidInput, match="not found in container 'bronze'") as caught:
        checked(storage, "floods/missing.gpkg")
    assert "PUT /api/storage/bronze/floods/missing.gpkg" in caught.value.remediation


def test_only_input_containers_are_read(storage: Storage) -> None:
    storage.put("silver", "cogs/dem.tif", b"an output")
    with pytest.raises(InvalidInput, match="not an input container"):
        checked(storage, "cogs/dem.tif", container_name="silver")
    storage.put("bronze", "dem.tif", b"one")
    with pytest.raises(InvalidInput, match="'bronze' is not an input container"):
        validate(storage, ask("dem.tif"), ("incoming",))


def test_options_must_fit_the_data_type(storage: Storage) -> None:
    storage.put("bronze", "dem.tif", b"one")
    with pytest.raises(InvalidInput, match="layer do not apply to raster data"):
        checked(storage, "dem.tif", processing_options=ProcessingOptions(layer="roads"))


def test_names_must_be_slugs(storage: Storage) -> None:
    storage.put("bronze", "dem.tif", b"one")
    with pytest.raises(InvalidInput, match="dataset_id"):
        checked(storage, "dem.tif", dataset_id="../etc")
