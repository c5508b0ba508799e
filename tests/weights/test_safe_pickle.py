"""The restricted unpickler under hostile input: forged dtype and array states, pickles that
allocate or nest without bound, and a fuzz corpus of mutated array pickles, each run in a
subprocess so that a crash of the interpreter fails the test instead of the test run."""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

from mejax.weights import safe_pickle, torch_convert

# numpy.dtype('f4') with the state (3, '<', None, (None, None), -1, -1, 0): NumPy 2.4 takes the
# forged fields tuple and crashes (segmentation fault) when the dtype is used.
FORGED_DTYPE = (
    b"\x80\x05\x8c\x05numpy\x8c\x05dtype\x93\x8c\x02f4\x89\x88\x87R(K\x03\x8c\x01<NN\x86J\xff"
    b"\xff\xff\xffJ\xff\xff\xff\xffK\x00tb."
)


def _run_isolated(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``code`` run by a fresh interpreter; a crash shows as a negative return code."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_forged_dtype_state_raises_instead_of_crashing():
    result = _run_isolated(
        f"""
        import pickle
        from mejax.weights import safe_pickle
        try:
            safe_pickle.loads({FORGED_DTYPE!r})
        except pickle.UnpicklingError as error:
            print("refused:", error)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "refused: dtype <f4: state" in result.stdout


def _global(module: str, name: str) -> bytes:
    return f"c{module}\n{name}\n".encode()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        # bytes(2**30): a gigabyte from a 30-byte pickle.
        (b"\x80\x02" + _global("builtins", "bytes") + b"J\x00\x00\x00@\x85R.", "bytes"),
        # _reconstruct(ndarray, (2**30,), b"b") would allocate a gigabyte in NumPy.
        (
            b"\x80\x02"
            + _global("numpy._core.multiarray", "_reconstruct")
            + _global("numpy", "ndarray")
            + b"J\x00\x00\x00@\x85C\x01b\x87R.",
            "_reconstruct",
        ),
        # A list nested 100,000 deep.
        (b"\x80\x02" + b"]" * 100_000 + b"a" * 99_999 + b".", "levels of nesting"),
        # A list holding itself.
        (b"\x80\x02]q\x00h\x00a.", "levels of nesting"),
        # 2**40 paths through 40 tuples, each holding the previous one twice.
        (b"\x80\x02]" + b"q\x00h\x00h\x00\x86" * 40 + b".", "nodes"),
        (
            b"\x80\x02"
            + _global("_codecs", "encode")
            + b"X\x01\x00\x00\x00aX\x05\x00\x00\x00rot13\x86R.",
            "latin-1",
        ),
        (b"\x80\x02" + _global("numpy", "dtype") + b"X\x02\x00\x00\x00O8\x89\x88\x87R.", "dtype"),
        (b"\x80\x05\x95" + struct.pack("<Q", 1 << 40) + b"N.", "truncated"),
        # A bytearray8 of a gigabyte (CPython allocates it before reading) and a memo index of
        # 2**30 (CPython grows its memo to it).
        (b"\x80\x05\x96" + struct.pack("<Q", 1 << 30) + b"ab.", "only 3 remain"),
        (b"\x80\x02Nr\x00\x00\x00\x40.", "memo index"),
        (b"", "not a pickle"),
        (b"\x80\x02}q\x00(X\x01\x00\x00\x00aK\x01u", "not a pickle"),  # no STOP
        (b"\x80\x02)}b.", "not a pickle"),  # BUILD on a tuple
    ],
    ids=[
        "bytes-of-a-size",
        "reconstruct-huge",
        "deep",
        "cycle",
        "fan-out",
        "codec",
        "object-dtype",
        "frame",
        "bytearray8",
        "memo",
        "empty",
        "eof",
        "build",
    ],
)
def test_hostile_pickles_raise_one_error(payload, message):
    with pytest.raises(pickle.UnpicklingError, match=message):
        safe_pickle.loads(payload)


def test_array_data_must_match_its_shape():
    good = pickle.dumps(np.arange(4, dtype=np.float32), protocol=2)
    # The array's data is a 16-byte BINBYTES/latin-1 string; claim a shape of 5 elements.
    forged = good.replace(b"K\x04\x85", b"K\x05\x85", 1)
    assert forged != good
    with pytest.raises(pickle.UnpicklingError, match="needs 20 bytes, not 16"):
        safe_pickle.loads(forged)


def test_load_names_the_file(tmp_path):
    path = tmp_path / "bad.pkl"
    path.write_bytes(FORGED_DTYPE)
    with pytest.raises(pickle.UnpicklingError, match="bad.pkl: dtype"):
        safe_pickle.load(path)


def test_byte_order_and_layout_round_trip():
    tree = {
        "big": np.arange(6, dtype=">f4").reshape(2, 3),
        "fortran": np.asfortranarray(np.ones((2, 3), np.int16)),
        "text": np.array(["ab", "c"]),
        "complex": np.complex64(1j),
        "flag": np.bool_(True),
    }
    for protocol in range(6):
        loaded = safe_pickle.loads(pickle.dumps(tree, protocol=protocol))
        for key, value in tree.items():
            assert loaded[key].dtype == value.dtype
            np.testing.assert_array_equal(loaded[key], value)
        assert loaded["fortran"].flags.f_contiguous
        assert loaded["big"].flags.writeable


FUZZ = """
import pickle, random, resource
import numpy as np
from mejax.weights import safe_pickle, torch_convert

rng = np.random.default_rng(0)
tree = {"params": {"kernel": rng.normal(size=(3, 4)).astype(np.float32),
                   "bias": np.arange(4, dtype=np.int64)},
        "stats": (np.float32(1.5), np.array(["ab"]), np.zeros((0, 2), ">f8"))}
seeds = [pickle.dumps(tree, protocol=p) for p in (2, 4, 5)]
rand = random.Random(0)
outcomes = {"loaded": 0, "refused": 0}
for trial in range({trials}):
    data = bytearray(rand.choice(seeds))
    for _ in range(rand.randint(1, 4)):
        i = rand.randrange(len(data))
        kind = rand.randrange(4)
        if kind == 0:
            data[i] = rand.randrange(256)
        elif kind == 1:
            del data[i:i + rand.randint(1, 8)]
        elif kind == 2:
            data[i:i] = bytes(rand.randrange(256) for _ in range(rand.randint(1, 8)))
        else:
            j = rand.randrange(len(data))
            data[i:i] = data[j:j + rand.randint(1, 16)]
    try:
        result = safe_pickle.loads(bytes(data))
        repr(result)  # use every array and dtype that came out
        outcomes["loaded"] += 1
    except pickle.UnpicklingError:
        outcomes["refused"] += 1
# The peak memory of this process (VmHWM; ru_maxrss would include the parent's, kept over exec).
try:
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0]) // 1024
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(outcomes, peak, "MiB")
"""


def test_fuzzed_array_pickles_load_or_raise_without_crashing():
    result = _run_isolated(FUZZ.replace("{trials}", "20000"))
    assert result.returncode == 0, f"crashed ({result.returncode}): {result.stderr[-2000:]}"
    assert not result.stderr  # nor an error CPython could only print (a leaked buffer)
    print(result.stdout)
    outcomes, rss = result.stdout.rsplit("}", 1)
    assert "'refused': 0" not in outcomes  # the mutations do reach the checks
    assert int(rss.split()[0]) < 1024  # nothing allocated from a stated size


# --- PyTorch checkpoints need a PyTorch whose weights_only is safe --------------------------------


@pytest.mark.parametrize("version", ["2.5.1+cpu", "1.13.0", "garbled"])
def test_pytorch_before_2_6_is_refused(tmp_path, monkeypatch, version):
    loads = []
    fake = types.SimpleNamespace(__version__=version, load=lambda *a, **k: loads.append(a))
    monkeypatch.setitem(sys.modules, "torch", fake)
    path = tmp_path / "resnet.pth"
    path.write_bytes(b"not read")
    with pytest.raises(ImportError, match=r"resnet.pth is a PyTorch checkpoint .* torch>=2\.6"):
        torch_convert.load_state_dict(path)
    assert not loads  # refused before torch.load is called


def test_pytorch_2_6_reads_with_weights_only(tmp_path, monkeypatch):
    calls = []

    def load(path, map_location, weights_only):
        calls.append(weights_only)
        return {"fc.weight": np.ones((2, 3), np.float32)}

    fake = types.SimpleNamespace(__version__="2.6.0", load=load)
    monkeypatch.setitem(sys.modules, "torch", fake)
    path = tmp_path / "head.pt"
    path.write_bytes(b"not read")
    assert torch_convert.load_state_dict(path)["fc.weight"].shape == (2, 3)
    assert calls == [True]
