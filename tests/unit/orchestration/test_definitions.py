"""Job ids and the parsing of stored parameters and results at CoreMachine's seams."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from terrace.orchestration.definitions import Contract, JobType, NoInput, Stage
from terrace.orchestration.machine import job_id_for


def test_the_same_parameters_in_another_key_order_are_the_same_job() -> None:
    first = {"path": "in/a.gpkg", "options": {"crs": "EPSG:4326", "layer": "roads"}, "n": 1}
    second = {"n": 1, "options": {"layer": "roads", "crs": "EPSG:4326"}, "path": "in/a.gpkg"}
    assert job_id_for("process_vector", first) == job_id_for("process_vector", second)


def test_underscore_keys_are_notes_that_do_not_change_the_job() -> None:
    params = {"path": "in/a.gpkg"}
    assert job_id_for("process_vector", {**params, "_trace": "x", "_by": "y"}) == job_id_for(
        "process_vector", params
    )


@pytest.mark.parametrize(
    ("job_type", "params"),
    [("process_raster", {"path": "in/a.gpkg"}), ("process_vector", {"path": "in/b.gpkg"})],
)
def test_another_type_or_value_is_another_job(job_type: str, params: dict[str, str]) -> None:
    job_id = job_id_for(job_type, params)
    assert job_id != job_id_for("process_vector", {"path": "in/a.gpkg"})
    assert len(job_id) == 64 and int(job_id, 16) >= 0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int


class Counted(Contract):
    count: int


def count(ctx: object) -> Counted:
    return Counted(count=1)


JOB = JobType(
    name="counting",
    parameters=Strict,
    stages=(Stage("count", count, lambda p, _: [NoInput()] * p.n, NoInput, Counted),),
)


def test_stored_parameters_load_without_their_notes() -> None:
    assert JOB.load({"n": 3, "_trace": "x"}) == Strict(n=3)
    with pytest.raises(ValidationError):
        JOB.load({"n": 3, "m": 4})


def test_stored_results_parse_as_the_stage_result_and_unknown_fields_are_refused() -> None:
    stored = json.loads(json.dumps([Counted(count=2).model_dump(mode="json"), {"count": 5}]))
    assert JOB.stages[0].results(stored) == [Counted(count=2), Counted(count=5)]
    with pytest.raises(ValidationError):
        JOB.stages[0].results([{"count": 1, "extra": True}])


def test_a_job_without_finalizer_reports_its_last_results() -> None:
    assert JOB.outcome(Strict(n=2), [Counted(count=1), Counted(count=2)]) == {
        "results": [{"count": 1}, {"count": 2}]
    }
