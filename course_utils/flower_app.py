"""The notebook's FedAvg clients on a real federated-learning engine: Flower's simulation runtime.

:func:`make_client_app` wraps the very same :func:`course_utils.federated.local_sgd` used by the
scratch loop into a Flower ``ClientApp``; :func:`make_server_app` runs Flower's own ``FedAvg``
strategy in a ``ServerApp``; :func:`run_flower` starts both on Flower's Ray backend and cleans up.

Ray is started politely: ``num_cpus`` CPUs (2 by default), no dashboard, no usage statistics,
session files in a temporary folder deleted afterwards, ``ray.shutdown()`` always, so no Ray
process outlives the call. Its servers listen on loopback only
(:func:`course_utils.ray_local.loopback_only_ray`, re-exported here: on Linux Ray 2.55 would swap
127.0.0.1 for the machine's address unless the cluster is declared single-machine, Ray's default
on macOS and Windows). Notebook ``05b_flower`` measures where the
time goes (:meth:`FlowerRun.breakdown`).

The same two objects deploy unchanged across machines: put them in a Flower app
(``pyproject.toml`` naming ``serverapp`` / ``clientapp``), start a ``flower-superlink`` on the
server and a ``flower-supernode`` on each data holder, then ``flwr run``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .federated import NumpyNet, client_rng, local_sgd
from .progress import StepBar
from .ray_local import is_startup_timeout, loopback_only_ray, stop_processes_using
from .results import Result
from .validation import RNGLike, as_seed, check_int

__all__ = [
    "FlowerRun",
    "RayStartError",
    "ray_backend_config",
    "make_client_app",
    "make_server_app",
    "run_flower",
    "ray_processes",
    "running_under_pytest",
]


class RayStartError(RuntimeError):
    """Ray's node did not come up within its start-up deadline (30 s), on every attempt.

    This happens on an overloaded machine, not because of the federated code; rerun later.
    """


@dataclass(frozen=True)
class FlowerRun(Result):
    """Result of :func:`run_flower`.

    ``accuracy[t]`` is the global model's test accuracy after round ``t`` (``t = 0``: initial
    model); ``round_seconds[t - 1]`` the wall time of round ``t``, the first one including the
    start of Ray's worker processes; ``ray_start_seconds`` the time ``ray.init`` took before the
    first round; ``seconds`` the whole call, start-up and shut-down included.
    """

    params: np.ndarray
    accuracy: list[float] = field(default_factory=list)
    round_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    ray_start_seconds: float = 0.0

    @property
    def startup_seconds(self) -> float:
        """Worker start-up: the first round minus a typical later round (``ray.init`` excluded)."""
        if not self.round_seconds:
            return float("nan")
        later = float(np.median(self.round_seconds[1:])) if len(self.round_seconds) > 1 else 0.0
        return self.round_seconds[0] - later

    def breakdown(self) -> dict[str, float]:
        """Where the run's wall time went, in seconds; the parts add up to :attr:`seconds`.

        ``starting Ray`` is ``ray.init``; ``starting workers`` the first round's extra time;
        ``training rounds`` every round at the speed of the later ones; ``Flower set-up and
        shut-down`` the rest (Flower's threads, the initial evaluation, ``ray.shutdown``).

        Examples
        --------
        >>> run = FlowerRun(np.zeros(1), round_seconds=[5.0, 1.0, 1.0], seconds=12.0,
        ...                 ray_start_seconds=4.0)
        >>> run.breakdown()
        {'starting Ray': 4.0, 'starting workers': 4.0, 'training rounds': 3.0, 'Flower set-up and shut-down': 1.0}
        """
        workers = self.startup_seconds if self.round_seconds else 0.0
        rounds = float(np.sum(self.round_seconds)) - workers
        rest = self.seconds - self.ray_start_seconds - workers - rounds
        return {
            "starting Ray": self.ray_start_seconds,
            "starting workers": workers,
            "training rounds": rounds,
            "Flower set-up and shut-down": rest,
        }


def ray_backend_config(temp_dir: str, *, num_cpus: int = 2) -> dict[str, Any]:
    """Backend configuration for ``flwr.simulation.run_simulation``: local, small and quiet.

    Examples
    --------
    >>> cfg = ray_backend_config("/tmp/x", num_cpus=2)
    >>> cfg["init_args"]["num_cpus"], cfg["init_args"]["_node_ip_address"], cfg["client_resources"]["num_cpus"]
    (2, '127.0.0.1', 1)
    """
    num_cpus = check_int(num_cpus, "num_cpus", min_val=1)
    return {
        "init_args": {
            "num_cpus": num_cpus,
            "num_gpus": 0,
            "include_dashboard": False,
            "_temp_dir": str(temp_dir),
            "_node_ip_address": "127.0.0.1",
            "logging_level": "ERROR",
            "log_to_driver": False,
        },
        # one CPU per simulated client: `num_cpus` clients train at the same time
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
    }


def make_client_app(
    net: NumpyNet,
    clients: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    local_epochs: int = 1,
    batch_size: int | None = 10,
    lr: float = 0.1,
    rng: RNGLike = 0,
) -> Any:
    """A Flower ``ClientApp`` whose ``train`` runs :func:`local_sgd` on the node's partition.

    Simulated node ``k`` (Flower's ``partition-id``) holds ``clients[k]``; in a deployment each
    SuperNode would load its own data instead. The reply carries the new parameters and the
    example count that FedAvg weights by. Node ``k`` in round ``t`` shuffles with
    ``client_rng(s, t, k)``, ``s`` the seed of ``rng``, as in ``run_federated``.
    """
    seed = as_seed(rng)
    from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp

    data = [(np.asarray(X), np.asarray(y)) for X, y in clients]
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        cid = int(context.node_config["partition-id"])
        server_round = int(msg.content["config"]["server-round"])
        params = msg.content["arrays"].to_numpy_ndarrays()[0]
        X, y = data[cid]
        new = local_sgd(
            net,
            params,
            X,
            y,
            epochs=local_epochs,
            batch_size=batch_size,
            lr=lr,
            rng=client_rng(seed, server_round, cid),
        )
        content = RecordDict(
            {"arrays": ArrayRecord([new]), "metrics": MetricRecord({"num-examples": len(y)})}
        )
        return Message(content=content, reply_to=msg)

    return app


def make_server_app(
    net: NumpyNet,
    params: np.ndarray,
    *,
    rounds: int,
    n_clients: int,
    X_test: np.ndarray,
    y_test: np.ndarray,
    out: dict[str, Any],
) -> Any:
    """A Flower ``ServerApp`` running Flower's ``FedAvg`` with every client in every round.

    The server evaluates the global model on ``(X_test, y_test)`` before the first and after each
    round; accuracies go to ``out["accuracy"]``, the times of those evaluations to ``out["times"]``
    and the final parameters to ``out["params"]``.
    """
    from flwr.app import ArrayRecord, Context, MetricRecord
    from flwr.serverapp import Grid, ServerApp
    from flwr.serverapp.strategy import FedAvg

    app = ServerApp()

    def evaluate(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        out.setdefault("times", []).append(time.perf_counter())
        acc = net.accuracy(arrays.to_numpy_ndarrays()[0], X_test, y_test)
        out.setdefault("accuracy", []).append(acc)
        if "tick" in out:  # a progress bar (run_flower(progress=True))
            out["tick"](f"round {server_round} of {rounds}")
        return MetricRecord({"accuracy": acc})

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        strategy = FedAvg(
            fraction_train=1.0,
            fraction_evaluate=0.0,
            min_train_nodes=n_clients,
            min_available_nodes=n_clients,
        )
        result = strategy.start(
            grid=grid,
            initial_arrays=ArrayRecord([np.asarray(params, dtype=float)]),
            num_rounds=rounds,
            evaluate_fn=evaluate,
        )
        out["params"] = result.arrays.to_numpy_ndarrays()[0]

    return app


#: Ray session folders created by :func:`run_flower` in this process (for :func:`ray_processes`).
_SESSION_DIRS: list[str] = []


def ray_processes() -> list[str]:
    """Names of still-running processes that belong to a Ray started by :func:`run_flower` in this
    Python process (their command line names its session folder), and their descendants.

    Examples
    --------
    >>> ray_processes()
    []
    """
    import psutil

    found: dict[int, str] = {}
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            if proc.info["pid"] != os.getpid() and any(d in cmd for d in _SESSION_DIRS):
                found[proc.pid] = proc.info["name"] or "?"
                for child in proc.children(recursive=True):
                    found[child.pid] = child.name()
        except psutil.Error:
            continue
    return sorted(found.values())


def running_under_pytest() -> bool:
    """True in a process started by pytest, e.g. the kernel nbval runs a notebook in.

    pytest sets ``PYTEST_CURRENT_TEST`` while it sets up and runs a test, and a kernel started
    then inherits it. A notebook uses this to turn "Ray could not start, rerun later" into an
    error under the test suite, so that the suite never passes with the Flower run skipped.

    Examples
    --------
    >>> running_under_pytest() == ("PYTEST_CURRENT_TEST" in os.environ)
    True
    """
    return "PYTEST_CURRENT_TEST" in os.environ


def _worker_runtime_env() -> dict[str, Any]:
    """Ray ``runtime_env`` for the workers: empty when a fresh Python finds ``course_utils``.

    Ray's workers inherit this process's environment, so with the course installed (``make
    install`` does ``pip install -e .``) they import ``course_utils`` on their own. Only when this
    process found it through a ``sys.path`` edit do they get our ``sys.path`` as ``PYTHONPATH``,
    as Flower's own backend does; that route costs several seconds of worker start-up, because
    Ray then prepares the environment through its runtime-env agent.
    """
    import subprocess
    import sys

    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.util, sys; "
            "sys.exit(importlib.util.find_spec('course_utils') is None)",
        ],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        timeout=60,
    )
    if probe.returncode == 0:
        return {}
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}}


def _start_ray(init_args: dict[str, Any], *, folder: str, attempts: int) -> None:
    """``ray.init(**init_args)``, retried when Ray's node misses its 30 s start-up deadline."""
    import ray

    runtime_env = _worker_runtime_env()
    for attempt in range(1, attempts + 1):
        try:
            ray.init(runtime_env=runtime_env or None, **init_args)
            return
        except Exception as err:  # Ray raises a bare Exception on a start-up timeout
            if ray.is_initialized():
                ray.shutdown()
            stop_processes_using(folder)
            if not is_startup_timeout(err):
                raise
            if attempt == attempts:
                raise RayStartError(
                    f"Ray did not start within its 30 s deadline in {attempts} attempt(s); "
                    "the machine is probably overloaded"
                ) from err


def run_flower(
    net: NumpyNet,
    clients: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    rounds: int,
    X_test: np.ndarray,
    y_test: np.ndarray,
    local_epochs: int = 1,
    batch_size: int | None = 10,
    lr: float = 0.1,
    params: np.ndarray | None = None,
    rng: RNGLike = 0,
    num_cpus: int = 2,
    start_attempts: int = 2,
    progress: bool = False,
) -> FlowerRun:
    """Run FedAvg with Flower's simulation runtime (Ray backend) and return the accuracy curve.

    Same arguments and seeding as :func:`course_utils.federated.run_federated` with every client in
    every round, so both produce the same model up to float rounding. Ray gives its node 30 s to
    come up; on an overloaded machine that can fail, so Ray's start is tried up to
    ``start_attempts`` times before the Flower run begins. ``progress=True`` shows a ``tqdm``
    bar: one step for Ray's start, then one per evaluation of the global model.
    """
    start_attempts = check_int(start_attempts, "start_attempts", min_val=1)
    rounds = check_int(rounds, "rounds", min_val=1)
    if len(clients) < 2:
        raise ValueError(f"clients must hold at least 2 clients, got {len(clients)}")
    seed = as_seed(rng)
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ.setdefault(
        "RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0"
    )  # silence a GPU-env FutureWarning
    # On a busy machine Ray's dashboard agent can need more than the raylet's default wait to start
    os.environ.setdefault("RAY_agent_register_timeout_ms", "120000")
    bar = StepBar(rounds + 2, desc="starting Ray", enabled=progress)
    try:
        with loopback_only_ray():
            return _run_flower(
                net,
                clients,
                rounds=rounds,
                X_test=X_test,
                y_test=y_test,
                params=params,
                local_epochs=local_epochs,
                batch_size=batch_size,
                lr=lr,
                seed=seed,
                num_cpus=num_cpus,
                start_attempts=start_attempts,
                bar=bar,
            )
    finally:
        bar.close()


def _run_flower(
    net: NumpyNet,
    clients: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    rounds: int,
    X_test: np.ndarray,
    y_test: np.ndarray,
    params: np.ndarray | None,
    local_epochs: int,
    batch_size: int | None,
    lr: float,
    seed: int,
    num_cpus: int,
    start_attempts: int,
    bar: StepBar,
) -> FlowerRun:
    import ray
    from flwr.simulation import run_simulation

    if params is None:
        params = net.init(rng=np.random.default_rng(seed))
    client_app = make_client_app(
        net, clients, local_epochs=local_epochs, batch_size=batch_size, lr=lr, rng=seed
    )
    out: dict[str, Any] = {"tick": bar.tick}  # filled by the ServerApp (a thread of this process)
    server_app = make_server_app(
        net, params, rounds=rounds, n_clients=len(clients), X_test=X_test, y_test=y_test, out=out
    )
    flwr_logger = logging.getLogger("flwr")
    old_level = flwr_logger.level
    flwr_logger.setLevel(logging.CRITICAL)  # Flower logs every step and the deprecation of this API
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="ray-") as tmp:
            _SESSION_DIRS.append(tmp)
            config = ray_backend_config(tmp, num_cpus=num_cpus)
            try:
                # Start Ray ourselves so that a slow start can be retried before Flower's threads
                # exist; Flower's backend then finds Ray running and uses it.
                t_ray = time.perf_counter()
                _start_ray(config["init_args"], folder=tmp, attempts=start_attempts)
                ray_start = time.perf_counter() - t_ray
                bar.tick("starting Flower's workers")
                run_simulation(
                    server_app=server_app,
                    client_app=client_app,
                    num_supernodes=len(clients),
                    backend_config=config,
                )
            finally:
                if ray.is_initialized():
                    ray.shutdown()
                stop_processes_using(tmp)
    finally:
        flwr_logger.setLevel(old_level)
    seconds = time.perf_counter() - start
    if "params" not in out:
        raise RuntimeError("the Flower run ended without a final model; see the log above")
    return FlowerRun(
        params=out["params"],
        accuracy=list(out["accuracy"]),
        round_seconds=np.diff(out["times"]).tolist(),
        seconds=seconds,
        ray_start_seconds=ray_start,
    )
