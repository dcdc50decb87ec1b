"""course_utils.flower_app: the ClientApp runs our local_sgd; a real Flower run equals the scratch loop.

The end-to-end test starts Ray (2 CPUs) and is marked ``slow``; it checks that no Ray process
outlives the run and that, while it runs, every Ray process listens on loopback only.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from course_utils import federated as fl
from course_utils import flower_app, ray_local


@pytest.fixture
def task_identity(monkeypatch):
    """Flower's message ids need a task identity, which its runtime normally sets."""
    from flwr.supercore.task_identity import TaskIdentity

    for name in ("_task_id", "_run_id", "_node_id"):
        monkeypatch.setattr(TaskIdentity, name, 1)


def test_client_app_trains_like_local_sgd(task_identity):
    from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, RecordDict

    net = fl.NumpyNet(n_in=4, n_hidden=3, n_out=2)
    rng = np.random.default_rng(0)
    clients = [(rng.normal(size=(6, 4)), rng.integers(0, 2, 6)) for _ in range(3)]
    app = flower_app.make_client_app(net, clients, lr=0.5, batch_size=2, rng=3)
    params = net.init(rng=rng)
    content = RecordDict(
        {"arrays": ArrayRecord([params]), "config": ConfigRecord({"server-round": 2})}
    )
    msg = Message(content=content, dst_node_id=1, message_type=MessageType.TRAIN)
    ctx = Context(
        run_id=1, node_id=1, node_config={"partition-id": 1}, state=RecordDict(), run_config={}
    )
    reply = app(msg, ctx)
    got = reply.content["arrays"].to_numpy_ndarrays()[0]
    want = fl.local_sgd(net, params, *clients[1], batch_size=2, lr=0.5, rng=fl.client_rng(3, 2, 1))
    assert np.allclose(got, want)
    assert reply.content["metrics"]["num-examples"] == 6


def test_ray_backend_config_is_local_and_small():
    cfg = flower_app.ray_backend_config("/tmp/somewhere", num_cpus=2)
    init = cfg["init_args"]
    assert init["num_cpus"] == 2 and init["_node_ip_address"] == "127.0.0.1"
    assert init["include_dashboard"] is False and init["_temp_dir"] == "/tmp/somewhere"
    assert cfg["client_resources"] == {"num_cpus": 1, "num_gpus": 0.0}
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="num_cpus"):
            flower_app.ray_backend_config("/tmp/x", num_cpus=bad)


def test_progress_bar_counts_ray_start_and_every_evaluation():
    from course_utils.progress import StepBar

    quiet = StepBar(5, enabled=False)
    quiet.tick("round 0 of 3")
    quiet.close()
    assert quiet.steps == 1 and quiet.bar is None
    shown = StepBar(3 + 2, desc="starting Ray", enabled=True)
    for step in ["starting Flower's workers"] + [f"round {r} of 3" for r in range(4)]:
        shown.tick(step)
    assert shown.bar.total == 5 and shown.bar.n == 5 and "round 3 of 3" in shown.bar.desc
    shown.close()
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match="total"):
            StepBar(bad)


def test_run_flower_bad_inputs():
    net = fl.NumpyNet(n_in=2, n_hidden=0, n_out=2)
    one = [(np.zeros((2, 2)), np.array([0, 1]))]
    kw = dict(X_test=np.zeros((1, 2)), y_test=np.array([0]))
    with pytest.raises(ValueError, match="at least 2 clients"):
        flower_app.run_flower(net, one, rounds=1, **kw)
    with pytest.raises(ValueError, match="rounds"):
        flower_app.run_flower(net, one * 2, rounds=0, **kw)
    assert issubclass(flower_app.RayStartError, RuntimeError)
    with pytest.raises(ValueError, match="start_attempts"):
        flower_app.run_flower(net, one * 2, rounds=1, start_attempts=0, **kw)


def test_startup_timeout_detection():
    inner = Exception("The current node timed out during startup. ...")
    try:
        try:
            raise inner
        except Exception as e:
            raise RuntimeError("Simulation Runtime crashed.") from e
    except RuntimeError as outer:
        assert ray_local.is_startup_timeout(outer)
    assert not ray_local.is_startup_timeout(RuntimeError("something else"))


def test_flower_run_time_bookkeeping():
    run = flower_app.FlowerRun(
        params=np.zeros(2), accuracy=[0.1, 0.5], round_seconds=[9.0, 1.0, 1.2, 0.8]
    )
    assert run.startup_seconds == pytest.approx(8.0)
    assert np.isnan(flower_app.FlowerRun(params=np.zeros(1)).startup_seconds)
    run = dataclasses.replace(run, seconds=20.0, ray_start_seconds=6.0)  # results are frozen
    parts = run.breakdown()
    assert parts["starting Ray"] == 6.0 and parts["starting workers"] == pytest.approx(8.0)
    assert parts["training rounds"] == pytest.approx(4 * 1.0)  # every round at the later speed
    assert sum(parts.values()) == pytest.approx(run.seconds)


def test_running_under_pytest_is_true_here():
    assert flower_app.running_under_pytest()


def test_workers_get_no_runtime_env_when_the_course_is_installed(monkeypatch, tmp_path):
    # the course is installed in the test environment: Ray's workers need no PYTHONPATH
    assert flower_app._worker_runtime_env() == {}
    # without the install a fresh Python cannot find course_utils: hand the workers our sys.path
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    (tmp_path / "python").write_text("#!/bin/sh\nexit 1\n")
    (tmp_path / "python").chmod(0o755)
    env = flower_app._worker_runtime_env()
    assert "PYTHONPATH" in env["env_vars"]


class _ListeningAddresses:
    """Collect, every 0.2 s in a thread, the addresses this process and its children listen on."""

    def __init__(self) -> None:
        import threading

        self.addresses: set[str] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import os

        import psutil

        while not self._stop.is_set():
            pids = {p.pid for p in psutil.Process().children(recursive=True)} | {os.getpid()}
            for conn in psutil.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
                    self.addresses.add(conn.laddr.ip)
            self.samples += 1
            self._stop.wait(0.2)

    def __enter__(self) -> _ListeningAddresses:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_loopback_only_ray_sets_and_restores_rays_switch(monkeypatch):
    import os
    import sys
    import types

    fake = types.SimpleNamespace(ENABLE_RAY_CLUSTER=True)  # Ray already imported, Linux default
    monkeypatch.setitem(sys.modules, "ray._private.ray_constants", fake)
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "1")
    with flower_app.loopback_only_ray():
        assert os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "0"
        assert fake.ENABLE_RAY_CLUSTER is False
    assert (
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "1" and fake.ENABLE_RAY_CLUSTER is True
    )

    monkeypatch.delenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
    monkeypatch.delitem(sys.modules, "ray._private.ray_constants")
    with pytest.raises(RuntimeError, match="boom"), flower_app.loopback_only_ray():
        # Ray imported inside the block reads "0"; on exit it gets back the platform default
        monkeypatch.setitem(sys.modules, "ray._private.ray_constants", fake)
        fake.ENABLE_RAY_CLUSTER = False
        raise RuntimeError("boom")
    assert "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in os.environ
    assert fake.ENABLE_RAY_CLUSTER is (sys.platform not in ("darwin", "win32"))


@pytest.mark.slow
def test_flower_matches_scratch_listens_on_loopback_and_cleans_up():
    import psutil

    from course_utils.data import digits_split

    X, Xt, y, yt = digits_split()
    net = fl.NumpyNet(n_hidden=8)
    parts = fl.iid_partition(len(y), 4, rng=np.random.default_rng(0))
    clients = [(X[p], y[p]) for p in parts]
    scratch = fl.run_federated(net, clients, rounds=2, X_test=Xt, y_test=yt)

    with _ListeningAddresses() as listening:
        run = flower_app.run_flower(
            net, clients, rounds=2, X_test=Xt, y_test=yt, start_attempts=3, progress=True
        )
    assert np.allclose(run.accuracy, scratch.accuracy)
    assert np.allclose(run.params, scratch.params, atol=1e-8)
    assert len(run.round_seconds) == 2 and run.seconds > 0
    assert flower_app.ray_processes() == []
    assert not [
        c for c in psutil.Process().children(recursive=True) if "ray" in " ".join(c.cmdline())
    ]
    # Ray's GCS and raylet were seen listening, and only on loopback (IPv4, IPv6, v4-mapped v6)
    assert listening.samples > 10 and listening.addresses, listening.samples
    assert listening.addresses <= {"127.0.0.1", "::1", "::ffff:127.0.0.1"}, listening.addresses
