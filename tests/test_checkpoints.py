"""Checkpoints: only complete steps count, a corrupt latest step falls back to the previous one,
and a workdir's lock refuses a second run (taking over the lock of a dead process)."""

import json
import os
import subprocess
import sys
import time

import jax.numpy as jnp
import numpy as np
import pytest

from mejax import checkpointing, experiment
from tests import tiny_configs

TARGET = {"a": jnp.zeros(4), "b": jnp.zeros(3)}


def _state(step):
    return {"a": jnp.arange(4.0) + step, "b": jnp.full(3, float(step))}


@pytest.fixture
def two_steps(tmp_path):
    directory = tmp_path / "checkpoints"
    checkpointer = checkpointing.Checkpointer(directory)
    checkpointer.save(3, _state(3))
    checkpointer.save(6, _state(6))
    checkpointer.close()
    return directory


def _restore(directory):
    checkpointer = checkpointing.Checkpointer(directory)
    try:
        return checkpointer.latest_step(), checkpointer.restore(TARGET)
    finally:
        checkpointer.close()


def test_a_stray_numbered_folder_is_not_a_step(two_steps):
    (two_steps / "9").mkdir()
    step, restored = _restore(two_steps)
    assert step == 6
    np.testing.assert_array_equal(restored["b"], [6.0, 6.0, 6.0])
    assert (two_steps / "9.incomplete").is_dir() and not (two_steps / "9").exists()


def test_a_corrupt_latest_step_falls_back_to_the_previous_one(two_steps, caplog):
    for file in (two_steps / "6").rglob("*"):
        if file.is_file() and file.name != checkpointing.COMPLETE_MARKER:
            file.write_bytes(b"garbage")
    step, restored = _restore(two_steps)
    np.testing.assert_array_equal(restored["b"], [3.0, 3.0, 3.0])
    assert (two_steps / "6.unreadable").is_dir()
    assert "does not restore" in caplog.text
    checkpointer = checkpointing.Checkpointer(two_steps)  # training goes on from step 3
    checkpointer.save(6, _state(7))
    assert checkpointer.latest_step() == 6
    checkpointer.close()


def test_no_step_that_restores_is_an_error_naming_the_folder(two_steps):
    for step in (3, 6):
        for file in (two_steps / str(step)).rglob("*"):
            if file.is_file() and file.name != checkpointing.COMPLETE_MARKER:
                file.write_bytes(b"garbage")
    with pytest.raises(RuntimeError, match=r"no checkpoint in .*checkpoints restores: 6 \("):
        _restore(two_steps)


HOLD = (
    "import sys, time\n"
    "from mejax import checkpointing\n"
    "lock = checkpointing.acquire_lock(sys.argv[1])\n"
    "print('held', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
)


def _holder(workdir, seconds=60):
    """A process that holds ``workdir``'s lock for ``seconds`` (started once it holds it)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(workdir), str(seconds)],
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_in_a_workdir_is_refused_naming_the_first(tmp_path):
    holder = _holder(tmp_path)
    try:
        with pytest.raises(checkpointing.WorkdirInUse, match=rf"pid {holder.pid} on host"):
            checkpointing.acquire_lock(tmp_path)
        config = tiny_configs.tiny("stapf")
        with pytest.raises(checkpointing.WorkdirInUse, match="in use by another run"):
            experiment.run(config, tmp_path)
        baseline = tiny_configs.tiny("lbp_top")
        with pytest.raises(checkpointing.WorkdirInUse, match="in use by another run"):
            experiment.run(baseline, tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "config.json").exists()  # refused before anything was written


def test_a_killed_holder_leaves_no_lock_and_one_process_cannot_hold_it_twice(tmp_path):
    holder = _holder(tmp_path)
    holder.kill()  # SIGKILL: no clean-up runs; the system releases the lock
    holder.wait()
    with checkpointing.workdir_lock(tmp_path):
        assert json.loads((tmp_path / checkpointing.HOLDER_NAME).read_text())["pid"] == os.getpid()
        with pytest.raises(checkpointing.WorkdirInUse):  # nor twice in one process
            checkpointing.acquire_lock(tmp_path)
    with checkpointing.workdir_lock(tmp_path):  # released at the end of the block
        pass


RACE = (
    "import sys, time\n"
    "from mejax import checkpointing\n"
    "start = float(sys.argv[2])\n"
    "time.sleep(max(0.0, start - time.time()))\n"
    "try:\n"
    "    lock = checkpointing.acquire_lock(sys.argv[1])\n"
    "except checkpointing.WorkdirInUse:\n"
    "    print('refused', flush=True)\n"
    "else:\n"
    "    print('held', flush=True)\n"
    "    time.sleep(1.0)\n"
)


def test_processes_started_together_give_exactly_one_holder(tmp_path):
    """Several processes ask at the same instant for the lock of a workdir whose last run was
    killed (SIGKILL), many times: exactly one holds it each time (a run of either path takes
    this lock: the test above)."""
    for trial in range(5):
        workdir = tmp_path / str(trial)
        workdir.mkdir()
        killed = _holder(workdir)
        killed.kill()
        killed.wait()
        start = time.time() + 4.0  # after every process has imported mejax
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", RACE, str(workdir), str(start)],
                stdout=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for _ in range(4)
        ]
        outcomes = sorted(p.communicate(timeout=120)[0].strip() for p in processes)
        assert outcomes == ["held", "refused", "refused", "refused"], (trial, outcomes)
