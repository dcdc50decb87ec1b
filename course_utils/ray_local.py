"""A private Ray on this machine, started politely: its servers listen on loopback only, and the
processes it leaves behind are stopped afterwards.

Both users of a local Ray share these pieces: :func:`course_utils.flower_app.run_flower` (Flower's
simulation runtime) and the grader's ``--ray auto`` (:mod:`course_utils.grading.distributed`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["loopback_only_ray", "stop_processes_using", "is_startup_timeout"]

# Ray's switch between "one machine only" (its default on macOS and Windows) and "may join a
# cluster" (the default on Linux): off, a loopback node address stays loopback.
_RAY_CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextlib.contextmanager
def loopback_only_ray() -> Iterator[None]:
    """Within the block, a local Ray started with node address 127.0.0.1 listens on loopback only.

    On Linux, Ray 2.55 (``ray._private.services.resolve_ip_for_localhost``) replaces a loopback
    node address by the machine's network address, so its GCS and raylet become reachable from
    the network. With ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` - the setting Ray uses on macOS and
    Windows - the address stays 127.0.0.1. The variable is read when ``ray`` is first imported
    (and by every process Ray starts), so it is set in the environment and, if Ray is already
    imported, on Ray's constants module too; both are restored on exit.

    Examples
    --------
    >>> with loopback_only_ray():
    ...     os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"]
    '0'
    """
    old_env = os.environ.get(_RAY_CLUSTER_ENV)
    constants = sys.modules.get("ray._private.ray_constants")
    old_flag = getattr(constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[_RAY_CLUSTER_ENV] = "0"
    if constants is not None:
        constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if old_env is None:
            os.environ.pop(_RAY_CLUSTER_ENV, None)
        else:
            os.environ[_RAY_CLUSTER_ENV] = old_env
        constants = sys.modules.get(
            "ray._private.ray_constants"
        )  # may be imported inside the block
        if constants is not None:
            constants.ENABLE_RAY_CLUSTER = (
                old_flag if old_flag is not None else _ray_cluster_default()
            )


def _ray_cluster_default() -> bool:
    """Ray's own default for ENABLE_RAY_CLUSTER, read from the (restored) environment."""
    value = os.environ.get(_RAY_CLUSTER_ENV)
    if value is not None:
        return value.lower() in ("true", "1")
    return not (sys.platform == "darwin" or sys.platform == "win32")


def stop_processes_using(folder: str, *, timeout: float = 5.0) -> None:
    """Terminate this process's descendants whose command line names ``folder`` (a local Ray's
    session folder): what a failed ``ray.init`` or a shutdown may leave running. Those still
    alive ``timeout`` seconds later are killed.

    Examples
    --------
    >>> stop_processes_using("/no/such/ray/session")  # no child names it: nothing to do
    """
    import psutil

    procs = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if any(folder in part for part in proc.cmdline()):
                procs.append(proc)
        except psutil.Error:
            continue
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    for proc in psutil.wait_procs(procs, timeout=timeout)[1]:
        with contextlib.suppress(psutil.Error):
            proc.kill()


def is_startup_timeout(err: BaseException) -> bool:
    """True when ``err`` (or one of its causes) is Ray's "node timed out during startup": an
    overloaded machine, worth another try, rather than a broken set-up.

    Examples
    --------
    >>> is_startup_timeout(Exception("The current node timed out during startup."))
    True
    >>> is_startup_timeout(RuntimeError("something else"))
    False
    """
    seen: BaseException | None = err
    while seen is not None:
        if "timed out during startup" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
