"""One submission's kernel seen from the grader: start it (sandboxed), run code with a time
limit, interrupt it, kill it - and the socket on which it answers the grader's calls.

Everything that comes from the kernel is treated as hostile: Jupyter messages are capped in size
(``zmq.MAXMSGSIZE``) and only counted, never kept; a cell's result is read from its
``execute_reply`` status; replies on the answer socket are length-checked before they are read
(:mod:`.protocol` parses them). A kernel that does not react to an interrupt within
:data:`INTERRUPT_GRACE` seconds is killed with its whole sandbox.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import protocol
from .sandbox import Limits, kernel_command, kernel_env

__all__ = ["INTERRUPT_GRACE", "AnswerChannel", "Kernel", "KernelStartError", "Outcome", "sweep"]

#: Seconds a kernel gets to come back after an interrupt before it is killed.
INTERRUPT_GRACE = 5.0
#: Kernels talk over Unix sockets in their private folder where there are any (TCP on Windows).
UNIX_SOCKETS = os.name == "posix" and hasattr(socket, "AF_UNIX")
#: Largest Jupyter message accepted from a kernel (bigger ones drop the connection).
MAX_MESSAGE_BYTES = 16 * 2**20


class KernelStartError(RuntimeError):
    """The kernel did not start (a broken environment, or a sandbox that cannot run)."""


@dataclass
class Outcome:
    """What happened to one piece of code run in the kernel.

    ``status``: ``"ok"``, ``"error"`` (it raised: ``ename``/``evalue``), ``"interrupted"`` (it
    overran and came back after an interrupt), ``"stuck"`` (it did not come back: the kernel was
    killed) or ``"dead"`` (the kernel died while running it).
    """

    status: str
    ename: str = ""
    evalue: str = ""


def _client_class() -> type:
    import zmq
    from jupyter_client import BlockingKernelClient
    from jupyter_client.connect import channel_socket_types

    class GuardedClient(BlockingKernelClient):  # type: ignore[misc,valid-type]
        """A kernel client whose sockets refuse oversized messages."""

        def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> Any:
            sock = self.context.socket(channel_socket_types[channel])
            sock.linger = 0
            sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            if identity:
                sock.identity = identity
            sock.connect(self._make_url(channel))
            return sock

    return GuardedClient


class Kernel:
    """A fresh kernel for one submission, in ``workdir`` (private, created by the caller with
    ``home/`` and ``run/`` inside), sandboxed as ``sandbox`` (``"bwrap"`` or ``"none"``)."""

    def __init__(
        self,
        workdir: Path,
        *,
        sandbox: str,
        set_number: int,
        limits: Limits | None = None,
        marker: str = "",
    ) -> None:
        self.workdir = Path(workdir)
        self.sandbox = sandbox
        self.set_number = set_number
        self.limits = limits or Limits()
        self.marker = f"{marker or secrets.token_hex(6)}-{secrets.token_hex(6)}"
        self.proc: subprocess.Popen | None = None
        self.kc: Any = None
        self.pid: int | None = None
        self.output_chars = 0
        self.name = ""

    # ------------------------------------------------------------------ life cycle
    def start(self, timeout: float = 60.0) -> None:
        from jupyter_client.connect import write_connection_file

        self.name = secrets.token_hex(4)  # fresh file names: a killed kernel's sockets may remain
        run = self.workdir / "run"
        conn = run / f"kernel-{self.name}.json"
        if UNIX_SOCKETS:  # private files in the kernel's folder (bwrap: no shared network)
            write_connection_file(str(conn), ip=str(run / f"k{self.name}"), transport="ipc")
        else:
            write_connection_file(str(conn), ip="127.0.0.1", transport="tcp")
        cmd = kernel_command(self.sandbox, self.workdir, conn, self.limits)
        env = kernel_env(self.sandbox, self.workdir, set_number=self.set_number, marker=self.marker)
        log = open(self.workdir / "kernel.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            self.proc = subprocess.Popen(
                cmd,
                env=env,
                cwd=self.workdir / "home",
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # Ctrl-C in the terminal reaches the grader only
            )
        finally:
            log.close()
        self.kc = _client_class()(connection_file=str(conn))
        self.kc.load_connection_file()
        self.kc.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
        self._wait_ready(timeout)
        self.pid = self._find_pid()

    def _log_tail(self) -> str:
        try:
            return (
                (self.workdir / "kernel.log").read_bytes()[-400:].decode(errors="replace").strip()
            )
        except OSError:
            return ""

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        msg_id = self.kc.kernel_info()
        last_ping = time.monotonic()
        while time.monotonic() < deadline:
            if not self.alive():
                raise KernelStartError(f"the kernel exited at start: {self._log_tail()[-300:]}")
            msg = self._next_shell(0.2)
            if msg is not None and msg.get("parent_header", {}).get("msg_id") == msg_id:
                self._drain_iopub()
                return
            if time.monotonic() - last_ping > 2:  # a request sent before the kernel bound is lost
                msg_id, last_ping = self.kc.kernel_info(), time.monotonic()
        self.kill()
        raise KernelStartError(f"the kernel did not start within {timeout:g} s")

    def _find_pid(self) -> int | None:
        """The kernel's own process id (inside bwrap it is a grandchild of the bwrap process)."""
        if self.sandbox != "bwrap":
            return self.proc.pid if self.proc else None
        try:
            import psutil

            for child in psutil.Process(self.proc.pid).children(recursive=True):
                if child.name() != "bwrap":
                    return child.pid
        except Exception:
            pass
        return None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def interrupt(self) -> None:
        """SIGINT to the kernel (a KeyboardInterrupt in the code it runs)."""
        if not self.alive():
            return
        if self.pid is not None and os.name == "posix":
            try:
                os.kill(self.pid, signal.SIGINT)
                return
            except OSError:
                pass
        try:  # fall back on the protocol's interrupt request
            msg = self.kc.session.msg("interrupt_request", content={})
            self.kc.control_channel.send(msg)
        except Exception:
            pass

    def kill(self) -> None:
        """Kill the kernel and everything it started; close the channels. Idempotent."""
        proc = self.proc
        if proc is not None:
            if proc.poll() is None:
                try:
                    if self.sandbox == "bwrap" or not hasattr(os, "killpg"):
                        proc.kill()  # bwrap: the sandbox's PID namespace dies with it
                    else:
                        os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self.sandbox != "bwrap":
            sweep(self.marker)
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:
                pass
        self.kc = None

    # ------------------------------------------------------------------ messages
    def _next_shell(self, timeout: float) -> dict | None:
        try:
            if not self.kc.shell_channel.socket.poll(int(timeout * 1000)):
                return None
            return self.kc.shell_channel.get_msg(timeout=0)
        except Exception:  # a malformed message: drop it
            return None

    def _drain_iopub(self, most: int = 2_000) -> None:
        """Read (and throw away) waiting output messages, counting their characters."""
        chan = self.kc.iopub_channel
        for _ in range(most):
            try:
                if not chan.socket.poll(0):
                    return
                msg = chan.get_msg(timeout=0)
            except Exception:
                continue
            content = msg.get("content") or {}
            text = content.get("text")
            if isinstance(text, str):
                self.output_chars += len(text)
            elif isinstance(content.get("data"), dict):
                for v in content["data"].values():
                    self.output_chars += len(v) if isinstance(v, str) else 100

    def sockets(self) -> list[Any]:
        return [self.kc.shell_channel.socket, self.kc.iopub_channel.socket]

    def _wait_reply(self, msg_id: str, deadline: float) -> dict | str | None:
        """The ``execute_reply`` to ``msg_id``; ``"dead"``; or ``None`` at the deadline."""
        import zmq

        poller = zmq.Poller()
        shell, iopub = self.sockets()
        poller.register(shell, zmq.POLLIN)
        poller.register(iopub, zmq.POLLIN)
        while True:
            alive = self.alive()
            left = deadline - time.monotonic()
            events = dict(poller.poll(int(max(0.0, min(left, 0.2)) * 1000)))
            if iopub in events:
                self._drain_iopub()
            if shell in events:
                msg = self._next_shell(0)
                if msg is not None and msg.get("parent_header", {}).get("msg_id") == msg_id:
                    return msg
            if not alive:
                return "dead"
            if left <= 0:
                return None

    def run(self, code: str, budget: float, *, silent: bool = False) -> Outcome:
        """Run ``code``; past ``budget`` seconds interrupt it, and kill the kernel if it is still
        busy :data:`INTERRUPT_GRACE` seconds later."""
        if not self.alive():
            return Outcome("dead")
        msg_id = self.kc.execute(
            code, silent=silent, store_history=not silent, allow_stdin=False, stop_on_error=False
        )
        reply = self._wait_reply(msg_id, time.monotonic() + max(0.0, budget))
        status = None
        if reply is None:
            self.interrupt()
            reply = self._wait_reply(msg_id, time.monotonic() + INTERRUPT_GRACE)
            if reply is None or reply == "dead":
                self.kill()
                return Outcome("stuck")
            status = "interrupted"
        if reply == "dead":
            return Outcome("dead")
        content = reply.get("content") or {}
        if status is None:
            status = "error" if content.get("status") == "error" else "ok"
        return Outcome(
            status, str(content.get("ename", ""))[:200], str(content.get("evalue", ""))[:5_000]
        )

    def start_code(self, code: str) -> str:
        """Send ``code`` without waiting (the answer server's cell); its message id."""
        return self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)


def sweep(marker: str) -> int:
    """Kill every process whose environment variable ``COURSE_GRADE_KERNEL`` starts with
    ``marker`` (kernels run without a sandbox, and what they left behind); the number killed."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return 0
    killed = 0
    for proc in psutil.process_iter():
        try:
            if marker and proc.environ().get("COURSE_GRADE_KERNEL", "").startswith(marker):
                proc.kill()
                killed += 1
        except (psutil.Error, OSError):
            continue
    return killed


class AnswerChannel:
    """The socket on which the kernel's answer server (:func:`.kernel_side.serve`) replies.

    :meth:`exchange` sends one request and waits for its reply until a deadline; then it
    interrupts the kernel, and kills it when no reply comes within :data:`INTERRUPT_GRACE`.
    """

    def __init__(self, kernel: Kernel, *, limit: int = protocol.REPLY_LIMIT) -> None:
        self.kernel = kernel
        self.limit = limit
        self.token = secrets.token_hex(16)
        self.conn: socket.socket | None = None
        if UNIX_SOCKETS:
            path = kernel.workdir / "run" / f"answers-{kernel.name}-{secrets.token_hex(2)}.sock"
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(str(path))
            self.address = ["unix", str(path)]
        else:
            self.listener = socket.create_server(("127.0.0.1", 0))
            self.address = ["tcp", "127.0.0.1", self.listener.getsockname()[1]]
        self.listener.listen(4)

    def open(self, timeout: float = 60.0) -> None:
        """Start the answer server in the kernel and accept its connection."""
        code = (
            "import course_utils.grading.kernel_side as _cg_kernel_side\n"
            f"_cg_kernel_side.serve({json.dumps(self.address)!r}, {self.token!r}, globals(), "
            f"{int(self.limit)})"
        )
        msg_id = self.kernel.start_code(code)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.kernel.alive():
                raise ConnectionError("the kernel died before it could answer")
            ready, _, _ = select.select([self.listener], [], [], 0.2)
            self.kernel._drain_iopub()
            msg = self.kernel._next_shell(0)
            if msg is not None and msg.get("parent_header", {}).get("msg_id") == msg_id:
                c = msg.get("content") or {}
                raise ConnectionError(
                    f"the kernel could not start answering: {str(c.get('ename'))[:100]}: "
                    f"{str(c.get('evalue'))[:300]}"
                )
            if not ready:
                continue
            conn, _ = self.listener.accept()
            conn.setblocking(False)
            try:
                hello = self._read_frame(conn, time.monotonic() + 10, limit=256)
            except (EOFError, TimeoutError, protocol.TooLarge):
                hello = b""
            if hello == self.token.encode():
                self.conn = conn
                return
            conn.close()  # somebody else: keep waiting for our kernel
        raise ConnectionError(f"the kernel did not start answering within {timeout:g} s")

    def close(self) -> None:
        for s in (self.conn, self.listener):
            try:
                if s is not None:
                    s.close()
            except OSError:
                pass
        self.conn = None

    def _wait_readable(self, conn: socket.socket, deadline: float) -> str:
        import zmq

        poller = zmq.Poller()
        poller.register(conn.fileno(), zmq.POLLIN)
        iopub = self.kernel.kc.iopub_channel.socket
        poller.register(iopub, zmq.POLLIN)
        while True:
            alive = self.kernel.alive()
            left = deadline - time.monotonic()
            events = dict(poller.poll(int(max(0.0, min(left, 0.2)) * 1000)))
            if iopub in events:
                self.kernel._drain_iopub()
            if conn.fileno() in events:
                return "ready"
            if not alive:
                return "dead"
            if left <= 0:
                return "timeout"

    def _read_exact(self, conn: socket.socket, n: int, deadline: float) -> bytes:
        """``n`` bytes; ``EOFError`` when the kernel closed the socket or died, ``TimeoutError``
        at the deadline."""
        chunks, left = [], n
        while left:
            state = self._wait_readable(conn, deadline)
            if state == "timeout":
                raise TimeoutError
            if state == "dead":
                raise EOFError
            try:
                chunk = conn.recv(min(left, 1 << 22))
            except BlockingIOError:
                continue
            except OSError:
                raise EOFError from None
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _read_frame(self, conn: socket.socket, deadline: float, limit: int) -> bytes:
        size = protocol.frame_length(self._read_exact(conn, 8, deadline))
        if size > limit:
            raise protocol.TooLarge(f"a reply of {size / 1e6:,.0f} MB")
        return self._read_exact(conn, size, deadline)

    def exchange(self, frame: bytes, deadline: float) -> tuple[str, bytes | None]:
        """Send ``frame``; ``("ok" | "late", payload)`` - late: it came back only after an
        interrupt at the deadline - or ``("stuck" | "dead" | "too_large", None)``."""
        conn = self.conn
        if conn is None or not self.kernel.alive():
            return "dead", None
        try:
            conn.setblocking(True)
            conn.settimeout(30)
            conn.sendall(frame)
            conn.setblocking(False)
        except OSError:
            return ("dead" if not self.kernel.alive() else "stuck"), None
        late = False
        while True:
            state = self._wait_readable(conn, deadline)
            if state == "ready":
                try:
                    payload = self._read_frame(conn, deadline + INTERRUPT_GRACE, self.limit + 2**16)
                except protocol.TooLarge:
                    self.kernel.kill()
                    return "too_large", None
                except EOFError:  # it died, or closed the socket: either way it is gone
                    self.kernel.kill()
                    return "dead", None
                except TimeoutError:
                    self.kernel.kill()
                    return "stuck", None
                return ("late" if late else "ok"), payload
            if state == "dead":
                return "dead", None
            if late:
                self.kernel.kill()
                return "stuck", None
            late = True
            self.kernel.interrupt()
            deadline = time.monotonic() + INTERRUPT_GRACE
