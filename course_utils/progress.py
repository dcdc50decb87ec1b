"""Progress for long cells: a bar that advances one named step at a time.

Every cell that runs longer than about 3 s shows progress (CONTRIBUTING). Loops use
``tqdm.auto.tqdm`` directly; :class:`StepBar` is for code that reports its own steps from inside
(e.g. ``flower_app.run_flower``: Ray's start, then each evaluation of the global model).
"""

from __future__ import annotations

from .validation import check_bool, check_int

__all__ = ["StepBar"]


class StepBar:
    """A ``tqdm`` bar of ``total`` named steps, or a silent counter when ``enabled`` is False.

    Parameters
    ----------
    total : int
        Number of steps expected (>= 1).
    desc : str, default ""
        Description shown before the first step.
    enabled : bool, default True
        False counts steps without showing anything (tests, quiet runs).

    Examples
    --------
    >>> bar = StepBar(2, enabled=False)
    >>> bar.tick("first"); bar.tick("second"); bar.close()
    >>> bar.steps
    2
    """

    def __init__(self, total: int, *, desc: str = "", enabled: bool = True) -> None:
        total = check_int(total, "total", min_val=1)
        self.steps = 0
        self.bar = None
        if check_bool(enabled, "enabled"):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc)

    def tick(self, description: str) -> None:
        """Advance one step and show ``description`` as the bar's label."""
        self.steps += 1
        if self.bar is not None:
            self.bar.set_description(description)
            self.bar.update(1)

    def close(self) -> None:
        """Close the bar (a no-op when disabled); safe to call twice."""
        if self.bar is not None:
            self.bar.close()
