"""The inline backend and the wire codec: what works inline works on a worker."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from geode.errors import ExitCode
from geode.jobs import InlineRunner, RunInterrupted, builtin, codec, get_runner
from geode.jobs.registry import task


def test_codec_round_trips_dates_paths_tuples_arrays_and_non_string_keys():
    value = {"d": dt.date(2024, 2, 29), "t": dt.datetime(2024, 1, 1, 12, 30, 5), "p": Path("/a/b"),
             "tuple": (1, (2, "x")), 3: "int key", "arr": np.arange(6, dtype="float32").reshape(2, 3),
             "scalar": np.float64(1.25)}
    back = codec.round_trip(value)
    assert back["d"] == value["d"] and back["t"] == value["t"] and back["p"] == Path("/a/b")
    assert back["tuple"] == (1, (2, "x")) and back[3] == "int key" and back["scalar"] == 1.25
    assert back["arr"].dtype == np.float32 and back["arr"].tolist() == value["arr"].tolist()


@dataclass
class NotGeode:
    x: int


def test_numeric_arrays_travel_exactly_as_bytes():
    """Binary encoding keeps every bit (NaN, -0.0, big-endian input, views) and the result is writable."""
    import json

    cases = [np.array([np.nan, np.inf, -0.0, 1e-300]), np.arange(12, dtype=">i4").reshape(3, 4)[:, ::2],
             np.array([1 + 2j, -3j]), np.array([True, False]), np.zeros((0, 3)), np.array(["a", "bc"])]
    for value in cases:
        wire = json.loads(codec.dumps(value))
        back = codec.loads(json.dumps(wire))
        assert back.shape == value.shape and back.dtype.kind == value.dtype.kind
        assert back.tobytes() == np.ascontiguousarray(value, dtype=back.dtype).tobytes()
        assert ("b64" in wire) == (value.dtype.kind in "biufc")
        back[...] = back  # a writable copy, not a view of the message


def test_codec_refuses_to_rebuild_classes_outside_geode_and_unknown_objects():
    with pytest.raises(TypeError, match="only geode dataclasses"):
        codec.round_trip(NotGeode(1))
    with pytest.raises(TypeError, match="cannot send set"):
        codec.dumps({1, 2})


def test_inline_failure_carries_traceback_node_and_the_run_goes_on():
    errors, results = [], []
    summary = InlineRunner().map(builtin.fail, [("boom",)], on_error=errors.append)
    assert summary.failures == errors and errors[0].message == "RuntimeError: boom"
    assert "Traceback" in errors[0].traceback and errors[0].node
    ok = InlineRunner().map(builtin.noop, [1, 2, 3], on_result=results.append)
    assert [o.result for o in results] == [1, 2, 3] and ok.ok


@task("geode.test.returns_set", queue="compute")
def returns_set(n):
    return {n}


def test_inline_applies_the_wire_round_trip_to_results():
    summary = InlineRunner().map(returns_set, [1])
    assert summary.failures and "cannot send set" in summary.failures[0].message


class Progress:
    def __init__(self):
        self.events = []

    def start(self, total, description):
        self.events.append(("start", total, description))

    def update(self, *, done, failed, running):
        self.events.append((done, failed, running))

    def stop(self):
        self.events.append("stop")


def test_ctrl_c_inline_raises_run_interrupted_with_what_finished():
    progress = Progress()

    def interrupt_after_two(outcome):
        if outcome.index == 1:
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as info:
        InlineRunner().map(builtin.noop, [1, 2, 3], on_result=interrupt_after_two, progress=progress)
    assert info.value.exit_code == ExitCode.INTERRUPTED
    assert info.value.summary.interrupted and len(info.value.summary.results) == 2
    assert progress.events[0] == ("start", 3, "geode.jobs.noop") and progress.events[-1] == "stop"


def test_get_runner_mode_resolution():
    from geode.config import load_settings

    assert get_runner(load_settings(environ={}), None).mode == "inline"
    assert get_runner(load_settings(environ={"GEODE_JOBS_PARALLEL": "false"}), False).mode == "inline"
