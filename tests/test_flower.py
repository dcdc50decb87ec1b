"""course_utils.flower_app: the ClientApp runs our local_sgd; a real Flower run equals the scratch loop.

The end-to-end test starts Ray (2 CPUs) and is marked ``slow``; it checks that no Ray process
outlives the run, and records (as an expected failure) that Ray 2.55's servers listen beyond the
loopback interface although we ask for 127.0.0.1.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import federated as fl
from course_utils import flower_app


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
    app = flower_app.make_client_app(net, clients, lr=0.5, batch_size=2, seed=3)
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
        assert flower_app._is_startup_timeout(outer)
    assert not flower_app._is_startup_timeout(RuntimeError("something else"))


def test_flower_run_time_bookkeeping():
    run = flower_app.FlowerRun(
        params=np.zeros(2), accuracy=[0.1, 0.5], round_seconds=[9.0, 1.0, 1.2, 0.8]
    )
    assert run.startup_seconds == pytest.approx(8.0)
    assert np.isnan(flower_app.FlowerRun(params=np.zeros(1)).startup_seconds)
    run.seconds, run.ray_start_seconds = 20.0, 6.0
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


def _listening_addresses(pids: set[int]) -> set[str]:
    import psutil

    addrs = set()
    for conn in psutil.net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
            addrs.add(conn.laddr.ip)
    return addrs


@pytest.mark.slow
def test_flower_matches_scratch_and_cleans_up(monkeypatch):
    import psutil

    from course_utils.data import digits_split

    X, Xt, y, yt = digits_split()
    net = fl.NumpyNet(n_hidden=8)
    parts = fl.iid_partition(len(y), 4, rng=np.random.default_rng(0))
    clients = [(X[p], y[p]) for p in parts]
    scratch = fl.run_federated(net, clients, rounds=2, X_test=Xt, y_test=yt)

    # watch Ray's servers while the run is going: record the addresses they listen on
    seen: dict[str, set[str]] = {"addresses": set()}
    real_run_simulation = __import__("flwr.simulation", fromlist=["run_simulation"]).run_simulation

    def spying_run_simulation(*args, **kwargs):
        ray_pids = {p.pid for p in psutil.Process().children(recursive=True)}
        seen["addresses"] |= _listening_addresses(ray_pids)
        return real_run_simulation(*args, **kwargs)

    monkeypatch.setattr("flwr.simulation.run_simulation", spying_run_simulation)
    run = flower_app.run_flower(net, clients, rounds=2, X_test=Xt, y_test=yt, start_attempts=3)
    assert np.allclose(run.accuracy, scratch.accuracy)
    assert np.allclose(run.params, scratch.params, atol=1e-8)
    assert len(run.round_seconds) == 2 and run.seconds > 0
    assert flower_app.ray_processes() == []
    assert not [
        c for c in psutil.Process().children(recursive=True) if "ray" in " ".join(c.cmdline())
    ]
    # Ray 2.55's GCS and raylet ignore the node address for binding; record, don't hide it
    exposed = seen["addresses"] - {"127.0.0.1", "::1"}
    if exposed:
        pytest.xfail(f"Ray servers listen on {sorted(exposed)} besides loopback (Ray limitation)")
