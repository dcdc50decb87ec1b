"""Environment check: ``python -m course_utils.doctor``.

Run it once after installing (on a laptop, JupyterHub or Binder) to see, in a few seconds, that
the course will work: Python and package versions inside the ranges the course was built for, the
bundled datasets load **with the network switched off**, JupyterLab has the widget and ipympl
extensions, torch runs, OpenDP releases a count, and how fast this machine is compared with the
2-core CI machine.

Every check is a plain function returning a :class:`Check`; :func:`run_checks` runs them all and
:func:`report` prints the table. ``main`` exits 1 when a check fails (warnings do not fail).

Examples
--------
>>> with no_network():
...     rows = [check_datasets()]
>>> rows[0].ok
True
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata as metadata
import os
import platform
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Check",
    "PYTHON_RANGE",
    "REFERENCE_SECONDS",
    "no_network",
    "check_python",
    "check_requirement",
    "check_packages",
    "check_datasets",
    "check_lab_extensions",
    "check_torch",
    "check_crypto",
    "check_opendp",
    "check_speed",
    "run_checks",
    "report",
    "main",
]

#: Python versions the course supports (as in pyproject.toml's ``requires-python``).
PYTHON_RANGE: tuple[tuple[int, int], tuple[int, int]] = ((3, 10), (3, 13))
#: Seconds the :func:`check_speed` workload takes on the 2-core CI machine, measured alone.
REFERENCE_SECONDS: float = 0.25
#: The labextensions the notebooks need in JupyterLab (widgets and the ipympl canvas).
LAB_EXTENSIONS: tuple[str, ...] = ("@jupyter-widgets/jupyterlab-manager", "jupyter-matplotlib")
#: Distribution name of the course package.
DISTRIBUTION = "course_utils"


@dataclass(frozen=True)
class Check:
    """Result of one environment check.

    Attributes
    ----------
    name : str
        What was checked (``"numpy"``, ``"datasets offline"``...).
    ok : bool
        False means the course will not work as intended; fix it before the lab.
    detail : str
        Versions, timings or what went wrong.
    hint : str
        How to fix it ("" when ok).
    warning : bool
        True for advice that does not fail the check (e.g. a slow machine).
    """

    name: str
    ok: bool
    detail: str
    hint: str = ""
    warning: bool = False

    @property
    def mark(self) -> str:
        """``ok``, ``WARN`` or ``FAIL``."""
        if not self.ok:
            return "FAIL"
        return "WARN" if self.warning else "ok"


class NetworkBlocked(OSError):
    """Raised by sockets inside :func:`no_network`."""


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Make every internet socket connection fail inside the block (local sockets still work).

    Used to prove that loading the course data never downloads anything.

    Examples
    --------
    >>> with no_network():
    ...     try:
    ...         socket.create_connection(("example.org", 80), timeout=1)
    ...     except OSError as exc:
    ...         print(type(exc).__name__)
    NetworkBlocked
    """
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def guard(sock: socket.socket) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise NetworkBlocked("network access attempted while the course checks forbid it")

    def connect(self: socket.socket, address: object) -> None:
        guard(self)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        guard(self)
        return real_connect_ex(self, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if host not in (None, "localhost", "127.0.0.1", "::1"):
            raise NetworkBlocked(
                f"name lookup of {host!r} attempted while the course checks forbid it"
            )
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo


# ------------------------------------------------------------------------------------- checks
def check_python(version: tuple[int, int] | None = None) -> Check:
    """Python inside :data:`PYTHON_RANGE`.

    Examples
    --------
    >>> check_python((3, 11)).ok, check_python((3, 9)).ok
    (True, False)
    """
    version = tuple(sys.version_info[:2]) if version is None else tuple(version)
    lo, hi = PYTHON_RANGE
    ok = lo <= version < hi
    return Check(
        "python",
        ok,
        f"{version[0]}.{version[1]} ({platform.python_implementation()}), needs >={lo[0]}.{lo[1]},<{hi[0]}.{hi[1]}",
        ""
        if ok
        else f"install Python 3.11 (or {lo[0]}.{lo[1]}-{hi[0]}.{hi[1] - 1}), delete .venv and install "
        "again (make lab PYTHON=python3.11), or use conda: conda env create -f environment.yml",
    )


def check_requirement(requirement: str) -> Check:
    """Is the installed version of a requirement string (``"numpy>=1.26,<3"``) inside its range?

    Examples
    --------
    >>> check_requirement("numpy>=1.0").ok
    True
    >>> check_requirement("numpy>=999").ok
    False
    >>> check_requirement("surely-not-installed-pkg>=1").detail
    'not installed'
    """
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(requirement)
    except InvalidRequirement as exc:
        raise ValueError(
            f"requirement must be a PEP 508 string like 'numpy>=1.26', got {requirement!r}: {exc}"
        ) from None
    fix = f'pip install -c constraints.txt "{req.name}{req.specifier}"'
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        return Check(req.name, False, "not installed", fix)
    ok = req.specifier.contains(version, prereleases=True)
    wanted = str(req.specifier) or "any version"
    return Check(req.name, ok, f"{version} (needs {wanted})", "" if ok else fix)


def _course_requirements() -> list[str]:
    """The course package's own runtime requirements (from its installed metadata)."""
    try:
        reqs = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return []
    return [r for r in reqs if "extra ==" not in r]


def check_packages() -> list[Check]:
    """One :class:`Check` per runtime dependency of the course package (versions in range)."""
    reqs = _course_requirements()
    if not reqs:
        return [
            Check(
                "course_utils",
                False,
                "the course package is not installed",
                'from the repository folder run: pip install -c constraints.txt -e ".[lab]"',
            )
        ]
    return [check_requirement(r.split(";")[0]) for r in reqs]


def check_datasets() -> Check:
    """The bundled datasets load offline: sklearn's digits, breast cancer, diabetes, the PAIR players."""
    start = time.perf_counter()
    try:
        from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

        from .toys.players import pair_layout_names, pair_players

        sizes = {
            "digits": load_digits().data.shape[0],
            "breast_cancer": load_breast_cancer().data.shape[0],
            "diabetes": load_diabetes().data.shape[0],
            "pair_layouts": len(pair_layout_names()),
        }
        pair_players("players0")
    except Exception as exc:  # report, never crash the doctor
        return Check(
            "datasets offline",
            False,
            f"{type(exc).__name__}: {exc}",
            "reinstall the package (pip install -e .); the data ships inside it and scikit-learn",
        )
    expected = {"digits": 1797, "breast_cancer": 569, "diabetes": 442}
    wrong = {k: v for k, v in expected.items() if sizes[k] != v}
    detail = (
        ", ".join(f"{k} {v}" for k, v in sizes.items()) + f" ({time.perf_counter() - start:.2f} s)"
    )
    return Check(
        "datasets offline", not wrong, detail, f"unexpected sizes {wrong}" if wrong else ""
    )


def check_lab_extensions() -> Check:
    """JupyterLab can find the widget manager and ipympl's canvas (prebuilt labextensions)."""
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return Check(
            "lab extensions", False, "jupyter_core is not installed", "pip install jupyterlab"
        )
    roots = [Path(p) for p in jupyter_path("labextensions")]
    missing = [
        ext
        for ext in LAB_EXTENSIONS
        if not any((root / ext / "package.json").exists() for root in roots)
    ]
    if missing:
        return Check(
            "lab extensions",
            False,
            f"missing {missing}",
            "pip install ipywidgets ipympl into the environment that runs JupyterLab, then restart it",
        )
    return Check("lab extensions", True, ", ".join(LAB_EXTENSIONS))


def check_torch() -> Check:
    """torch imports, runs a small matrix product on the CPU, and opacus imports."""
    try:
        torch = importlib.import_module("torch")
        importlib.import_module("opacus")
        x = torch.ones(64, 64)
        ok = float((x @ x)[0, 0]) == 64.0
    except Exception as exc:
        return Check(
            "torch + opacus",
            False,
            f"{type(exc).__name__}: {exc}",
            "pip install torch==2.13.0 first, then the course (see the README)",
        )
    return Check(
        "torch + opacus", ok, f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )


def check_crypto() -> Check:
    """``phe`` (Paillier) and ``tenseal`` (CKKS) import and add two ciphertexts correctly."""
    try:
        import tenseal as ts
        from phe import paillier

        pk, sk = paillier.generate_paillier_keypair(n_length=512)
        ok_phe = sk.decrypt(pk.encrypt(20) + pk.encrypt(22)) == 42
        ctx = ts.context(ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=[60, 40, 40, 60])
        ctx.global_scale = 2.0**40
        total = (ts.ckks_vector(ctx, [1.5, 2.0]) + ts.ckks_vector(ctx, [0.5, -1.0])).decrypt()
        ok_ts = abs(total[0] - 2.0) < 1e-3 and abs(total[1] - 1.0) < 1e-3
    except Exception as exc:
        return Check(
            "phe + tenseal",
            False,
            f"{type(exc).__name__}: {exc}",
            'pip install -c constraints.txt "phe" "tenseal" (tenseal has wheels for Python 3.8-3.12 on '
            "Linux, macOS and Windows x86-64)",
        )
    ok = ok_phe and ok_ts
    detail = f"phe {metadata.version('phe')}, tenseal {metadata.version('tenseal')}: " + (
        "encrypted additions decrypt correctly" if ok else "an encrypted sum decrypted wrongly"
    )
    return Check("phe + tenseal", ok, detail, "" if ok else "reinstall phe and tenseal")


def check_opendp() -> Check:
    """OpenDP (notebook 09) imports and releases one Laplace count with its privacy map.

    The check switches on OpenDP's ``contrib`` features in this process only, as notebook 09 does
    (in OpenDP 0.16 every measurement is still in contrib: its proof has not completed vetting).
    """
    try:
        dp = importlib.import_module("opendp.prelude")
        dp.enable_features("contrib")
        space = dp.atom_domain(T=int), dp.absolute_distance(T=int)
        laplace = dp.m.make_laplace(*space, scale=2.0)
        epsilon = float(laplace.map(1))
        release = laplace(100)
        ok = epsilon == 0.5 and isinstance(release, int)
    except Exception as exc:
        return Check(
            "opendp release",
            False,
            f"{type(exc).__name__}: {exc}",
            'pip install -c constraints.txt "opendp>=0.16,<0.17"',
        )
    version = metadata.version("opendp")
    detail = f"opendp {version}: Laplace count at scale 2 is epsilon {epsilon:g}"
    return Check(
        "opendp release", ok, detail, "" if ok else "unexpected privacy map: reinstall opendp"
    )


def check_speed(
    workload: Callable[[], object] | None = None, *, reference: float = REFERENCE_SECONDS
) -> Check:
    """Time a small numpy workload (the soccer model on a fine grid, 20 times) against CI.

    A machine more than 3x slower than the reference gets a warning (not a failure): the notebooks
    still run, only more slowly; see INSTRUCTORS.md for what to do.
    """
    if not reference > 0:
        raise ValueError(f"reference must be positive seconds, got {reference}")
    if workload is None:
        from .toys.players import pair_players
        from .toys.soccer import cell_centres, team_share

        pos, teams = pair_players("players0")
        xs, ys = cell_centres(1.0)

        def workload() -> None:
            for _ in range(20):
                team_share(pos, teams, xs, ys)

    start = time.perf_counter()
    workload()
    seconds = time.perf_counter() - start
    ratio = seconds / reference
    cores = os.cpu_count() or 1
    detail = f"{seconds:.2f} s ({ratio:.1f}x the CI reference), {cores} CPU core(s)"
    slow = ratio > 3 or cores < 2
    hint = (
        "expect notebooks to take up to a few minutes; close other programs or use JupyterHub"
        if slow
        else ""
    )
    return Check("speed", True, detail, hint, warning=slow)


def run_checks(*, speed: bool = True) -> list[Check]:
    """All checks, the dataset check with the network switched off."""
    rows = [check_python(), *check_packages()]
    from . import doctor_install as install  # the install checks build on Check, defined here

    rows += [r for r in install.check_extra("lab") if r.name not in {x.name for x in rows}]
    rows.append(install.check_checkout())
    with no_network():
        rows.append(check_datasets())
    rows.append(check_lab_extensions())
    rows.append(check_torch())
    rows.append(check_crypto())
    rows.append(check_opendp())
    rows.append(install.check_dev_tools())
    if speed:
        rows.append(check_speed())
    return rows


def report(rows: list[Check]) -> str:
    """The checks as an aligned text table plus a one-line verdict.

    Examples
    --------
    >>> print(report([Check("numpy", True, "2.1 (needs >=1.26)")]))
    ok    numpy  2.1 (needs >=1.26)
    <BLANKLINE>
    All 1 checks passed: the course is ready to run.
    """
    if not rows:
        raise ValueError("rows must hold at least one Check")
    width = max(len(r.name) for r in rows)
    lines = []
    for r in rows:
        lines.append(f"{r.mark:<5} {r.name:<{width}}  {r.detail}")
        if r.hint:
            lines.append(f"{'':<5} {'':<{width}}  -> {r.hint}")
    failed = [r.name for r in rows if not r.ok]
    lines.append("")
    if failed:
        lines.append(
            f"{len(failed)} of {len(rows)} checks failed ({', '.join(failed)}): fix them before the lab."
        )
    else:
        lines.append(f"All {len(rows)} checks passed: the course is ready to run.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: print the report; exit status 1 if any check failed."""
    p = argparse.ArgumentParser(
        prog="python -m course_utils.doctor", description=__doc__.splitlines()[0]
    )
    p.add_argument("--no-speed", action="store_true", help="skip the speed measurement")
    args = p.parse_args(argv)
    rows = run_checks(speed=not args.no_speed)
    print(report(rows))
    return 0 if all(r.ok for r in rows) else 1


_INSTALL_CHECKS = ("check_checkout", "check_dev_tools", "check_extra")


def __getattr__(name: str) -> object:
    """The install checks live in :mod:`course_utils.doctor_install` (they build on
    :class:`Check`); ``doctor.check_extra`` and friends still work."""
    if name in _INSTALL_CHECKS:
        from . import doctor_install

        return getattr(doctor_install, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())
