"""Outgrowing one machine: musiclib.tools.parallel (joblib, Dask) and multi-worker training.

The commands the README's "Outgrowing one machine" section shows are the ones these tests run:
a ``distributed.LocalCluster`` with two worker processes stands in for ``dask scheduler`` +
``dask worker``, and two Python processes on localhost with ``TF_CONFIG`` stand in for two machines.
"""

from __future__ import annotations

import functools
import json
import math
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from musiclib import corpus, framing
from musiclib.errors import AudioFileError, ParameterError
from musiclib.representations import MelSpectrogram
from musiclib.tools import cache, parallel

ROOT = Path(__file__).resolve().parent.parent
REP = MelSpectrogram(n_mels=32)


def _square(x):
    return x * x


def _fail_on_three(x):
    if x == 3:
        raise AudioFileError(f"/music/{x}.wav", "truncated")
    return x


def _pid(_):
    return os.getpid()


# --------------------------------------------------------------------------------------------
# parallel.map, local
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_jobs", [1, 2, None, -1])
def test_map_in_order(n_jobs):
    items = list(range(-5, 12))
    assert parallel.map(_square, items, n_jobs=n_jobs) == [x * x for x in items]


def test_map_threads_and_closures():
    offset = 7
    assert parallel.map(lambda x: x + offset, range(5), n_jobs=2) == [7, 8, 9, 10, 11]  # cloudpickle
    assert parallel.map(lambda x: x + offset, range(5), n_jobs=2, prefer="threads") == [7, 8, 9, 10, 11]


def test_map_uses_processes():
    pids = set(parallel.map(_pid, range(8), n_jobs=2))
    assert os.getpid() not in pids
    assert parallel.map(_pid, range(3), n_jobs=1) == [os.getpid()] * 3  # n_jobs=1: in this process


def test_map_empty_and_one():
    assert parallel.map(_square, [], n_jobs=2) == []
    assert parallel.map(_square, iter([4])) == [16]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_map_error_names_item(n_jobs):
    with pytest.raises(AudioFileError) as info:
        parallel.map(_fail_on_three, [1, 2, 3, 4], n_jobs=n_jobs)
    e = info.value
    assert e.path == "/music/3.wav" and e.problem == "truncated"  # its own type and fields
    assert "_fail_on_three() failed on item 2 of 4: 3" in e.__notes__[0]
    if n_jobs > 1:
        assert "Traceback" in e.__notes__[1]  # the worker's traceback travels with it


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, float("nan"), float("inf"), "2", 10**30 + 0.5])
def test_map_bad_n_jobs(bad):
    with pytest.raises(ParameterError, match="n_jobs="):
        parallel.map(_square, [1], n_jobs=bad)


def test_map_bad_arguments():
    with pytest.raises(ParameterError, match="func="):
        parallel.map(42, [1])
    with pytest.raises(ParameterError, match="items="):
        parallel.map(_square, 5)
    with pytest.raises(ParameterError, match="items="):
        parallel.map(_square, "abc")
    with pytest.raises(ParameterError, match="prefer="):
        parallel.map(_square, [1], prefer="gpus")
    for t in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ParameterError, match="timeout="):
            parallel.map(_square, [1], timeout=t)
    for s in ("", "  ", 8786, ["tcp://a:1"]):
        with pytest.raises(ParameterError, match="scheduler="):
            parallel.map(_square, [1], scheduler=s)


def test_scheduler_from_environment(monkeypatch):
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    assert parallel.scheduler_address() is None
    monkeypatch.setenv(parallel.SCHEDULER_ENV, " tcp://10.0.0.5:8786 ")
    assert parallel.scheduler_address() == "tcp://10.0.0.5:8786"
    assert parallel.scheduler_address("tcp://other:1") == "tcp://other:1"


def test_unreachable_scheduler_names_address(monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    monkeypatch.setenv(parallel.SCHEDULER_ENV, address)
    with pytest.raises(ParameterError, match=f"scheduler='{address}'"):
        parallel.map(_square, [1, 2], timeout=1)


def _same(a, b) -> bool:
    """Equal frames up to float32 rounding (another process may sum in another order: BLAS threads)."""
    return a.shape == b.shape and a.dtype == b.dtype and np.allclose(a, b, rtol=1e-5, atol=1e-6)


def _features(files, root, **kwargs):
    fc = cache.FeatureCache(root)
    return parallel.map(functools.partial(fc.features, rep=REP), files, **kwargs)


def _entries(root):
    return sorted(p.name for p in Path(root).rglob("*") if p.is_file())


def test_local_processes_equal_in_process(corpus_dir, tmp_path):
    files = corpus.find_audio_files(corpus_dir)
    here = _features(files, tmp_path / "a", n_jobs=1)
    there = _features(files, tmp_path / "b", n_jobs=2)
    assert len(here) == len(files) == 5
    for x, y in zip(here, there):
        assert x.shape[1] == REP.n_features and _same(x, y)
    assert _entries(tmp_path / "a") == _entries(tmp_path / "b")


def test_concurrent_writers_of_one_entry(corpus_dir, tmp_path):
    """Two processes computing the same entries at once: every result right, one whole entry each."""
    files = corpus.find_audio_files(corpus_dir)[:2] * 6
    out = _features(files, tmp_path / "c", n_jobs=2)
    reference = _features(files[:2], tmp_path / "ref", n_jobs=1)
    for i, frames in enumerate(out):
        assert _same(frames, reference[i % 2])
    names = _entries(tmp_path / "c")
    assert len(names) == 2 and all(n.endswith(".npz") and not n.startswith(".") for n in names)
    fc = cache.FeatureCache(tmp_path / "c")
    again = [fc.features(p, REP) for p in files[:2]]
    assert fc.hits == 2 and all(_same(a, b) for a, b in zip(again, reference))


def test_load_frames_parallel(corpus_dir, tmp_path):
    files = corpus.find_audio_files(corpus_dir)
    serial = framing.load_frames(files, REP, cache=cache.FeatureCache(tmp_path / "s"))
    local = framing.load_frames(files, REP, cache=cache.FeatureCache(tmp_path / "p"), n_jobs=2)
    assert all(_same(a, b) for a, b in zip(serial, local))


# --------------------------------------------------------------------------------------------
# a Dask cluster: two worker processes on this machine
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        yield cluster


def _worker_address(_):
    from distributed import get_worker

    return get_worker().address


@pytest.mark.slow  # the cluster takes seconds to start
def test_dask_features_equal_local(dask_cluster, corpus_dir, tmp_path, monkeypatch):
    files = corpus.find_audio_files(corpus_dir)
    local = _features(files, tmp_path / "local", n_jobs=1)
    # the same notebook call, pointed at the cluster by the environment only
    monkeypatch.setenv(parallel.SCHEDULER_ENV, dask_cluster.scheduler_address)
    remote = framing.load_frames(files, REP, cache=cache.FeatureCache(tmp_path / "dask"))
    assert len(remote) == len(local) == 5
    for x, y in zip(local, remote):
        assert _same(x, y)
    assert _entries(tmp_path / "dask") == _entries(tmp_path / "local")  # the workers filled the shared cache
    workers = set(parallel.map(_worker_address, range(8)))
    assert workers <= set(dask_cluster.scheduler_info["workers"]) and len(workers) >= 1
    clips = corpus.load_corpus(corpus_dir, progress=False)  # load_corpus on the cluster too
    assert [c.name for c in clips] == [c.name for c in corpus.load_corpus(corpus_dir, progress=False, scheduler=None)]


@pytest.mark.slow
def test_dask_errors_and_concurrent_writers(dask_cluster, corpus_dir, tmp_path):
    with pytest.raises(AudioFileError) as info:
        parallel.map(_fail_on_three, [3, 1], scheduler=dask_cluster.scheduler_address)
    assert "failed on item 0 of 2: 3" in info.value.__notes__[0]
    files = corpus.find_audio_files(corpus_dir)[:2] * 4
    out = _features(files, tmp_path / "c", scheduler=dask_cluster.scheduler_address)
    assert all(_same(out[i], out[i % 2]) for i in range(len(files)))
    assert len(_entries(tmp_path / "c")) == 2


# --------------------------------------------------------------------------------------------
# multi-worker training: two processes on localhost with TF_CONFIG
# --------------------------------------------------------------------------------------------
#: What each training process runs: the LSTM from keras_seq's builder, one epoch on the same
#: global batches, weights written to ``out``. clipnorm=None: Keras 3 clips each replica's gradient
#: before the all-reduce, so with clipping on, several workers differ from one process whenever a
#: replica's gradient norm passes the limit. shuffle=False: Keras' fit takes one batch from a
#: distributed dataset before the epoch (to build), which advances a reshuffling dataset's order.
TRAIN = textwrap.dedent("""
    def train(out):
        import numpy as np
        from musiclib.models import keras_seq
        keras_seq.set_seed(0)                # as the notebooks do: the import made the strategy already
        strategy = keras_seq.strategy()
        F, WINDOW, GLOBAL_BATCH = 6, 12, 8
        rng = np.random.default_rng(0)
        tracks = [(0.1 * rng.standard_normal((n, F))).cumsum(0).astype("float32") for n in (110, 90, 70)]
        model = keras_seq.make_lstm(F, units=(12,), clipnorm=None)
        model.adapt(tracks)
        data = keras_seq.sequence_dataset(tracks, window=WINDOW, batch_size=GLOBAL_BATCH, shuffle=False,
                                          drop_remainder=True)
        history = model.fit(keras_seq.shard_by_worker(data), epochs=1, verbose=0)
        np.savez(out, *[np.asarray(w) for w in model.weights])
        return {"strategy": type(strategy).__name__, "replicas": strategy.num_replicas_in_sync,
                "steps": int(model.optimizer.iterations.numpy()), "loss": float(history.history["loss"][-1])}
""")
#: A worker process: one thread per op (two workers share the cores), then ``train(argv[1])``.
WORKER = TRAIN + textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    print(json.dumps(train(sys.argv[1])))
""")


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _start(out, tf_config=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen([sys.executable, "-c", WORKER, str(out)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc, timeout):
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        pytest.fail(f"training process timed out after {timeout} s:\n{stderr[-3000:]}")
    assert proc.returncode == 0, stderr[-3000:]
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_workers_train_like_one_process(tmp_path, monkeypatch):
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    workers = [_start(tmp_path / f"worker{i}.npz", {"cluster": cluster, "task": {"type": "worker", "index": i}})
               for i in range(2)]
    # the same training in this process, as one process trains without TF_CONFIG, while they run
    monkeypatch.delenv("TF_CONFIG", raising=False)
    namespace = {}
    exec(TRAIN, namespace)
    single = namespace["train"](tmp_path / "single.npz")
    reports = [_finish(p, timeout=240) for p in workers] + [single]
    assert [r["strategy"] for r in reports] == ["_MultiWorkerMirroredStrategy"] * 2 + ["_DefaultDistributionStrategy"]
    assert [r["replicas"] for r in reports] == [2, 2, 1]
    assert reports[0]["steps"] == reports[1]["steps"] == reports[2]["steps"] > 1  # the same global batches
    w0, w1, one = (np.load(tmp_path / f"{n}.npz") for n in ("worker0", "worker1", "single"))
    for k in one.files:
        assert np.array_equal(w0[k], w1[k]), k  # both workers end identical
        np.testing.assert_allclose(w0[k], one[k], rtol=1e-4, atol=1e-6, err_msg=k)  # and equal to one process
    assert math.isclose(reports[0]["loss"], reports[2]["loss"], rel_tol=1e-4)


@pytest.mark.slow
def test_strategy_reads_tf_config(monkeypatch):
    keras_seq = pytest.importorskip("musiclib.models.keras_seq")
    import tensorflow as tf

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert keras_seq.strategy() is tf.distribute.get_strategy()  # CPU, no cluster: the default
    one = {"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(one))
    assert keras_seq.strategy() is tf.distribute.get_strategy()  # one worker is not a cluster
    for bad in ("{not json", "[1, 2]", '{"task": {}}', '{"cluster": ["a"]}'):
        monkeypatch.setenv("TF_CONFIG", bad)
        with pytest.raises(ParameterError, match="TF_CONFIG="):
            keras_seq.strategy()
    ds = tf.data.Dataset.range(4).batch(2)
    sharded = keras_seq.shard_by_worker(ds)
    assert sharded.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    assert [b.tolist() for b in sharded.as_numpy_iterator()] == [[0, 1], [2, 3]]  # one process: unchanged
    with pytest.raises(ParameterError, match="tf.data.Dataset"):
        keras_seq.shard_by_worker(np.zeros(3))
