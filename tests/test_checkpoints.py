"""Checkpoints: only complete steps count, a corrupt latest step falls back to the previous one,
and a workdir's lock refuses a second run (taking over the lock of a dead process)."""

import json
import os
import socket
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from mejax import checkpointing, presets, train

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


def _dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _write_holder(workdir, pid, host):
    lock = workdir / checkpointing.LOCK_NAME
    lock.write_text(json.dumps({"pid": pid, "host": host, "since": 0}))
    return lock


def test_a_second_run_in_a_workdir_is_refused_naming_the_first(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _write_holder(tmp_path, sleeper.pid, socket.gethostname())
        with pytest.raises(checkpointing.WorkdirInUse, match=rf"pid {sleeper.pid} on host"):
            checkpointing.acquire_lock(tmp_path)
        config = presets.stap_family("STAPF", "stap", "focal", "synth_tiny")
        with pytest.raises(checkpointing.WorkdirInUse, match="in use by another run"):
            train.run(config, tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not (tmp_path / "config.json").exists()  # refused before anything was written


def test_the_lock_of_a_dead_process_on_this_host_is_taken_over(tmp_path):
    _write_holder(tmp_path, _dead_pid(), socket.gethostname())
    with checkpointing.workdir_lock(tmp_path):
        holder = json.loads((tmp_path / checkpointing.LOCK_NAME).read_text())
        assert holder["pid"] == os.getpid()
        with pytest.raises(checkpointing.WorkdirInUse):  # nor twice in one process
            checkpointing.acquire_lock(tmp_path)
    assert not (tmp_path / checkpointing.LOCK_NAME).exists()


def test_the_lock_of_another_host_is_not_taken_over(tmp_path):
    _write_holder(tmp_path, _dead_pid(), "another-host")
    with pytest.raises(checkpointing.WorkdirInUse, match="on host another-host"):
        checkpointing.acquire_lock(tmp_path)
    assert json.loads((tmp_path / checkpointing.LOCK_NAME).read_text())["host"] == "another-host"
