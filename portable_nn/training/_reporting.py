"""The callbacks that report on a run: ``print_cost`` and the ``progress`` bar."""

from __future__ import annotations

from typing import Any

from portable_nn.training._callbacks import Callback, Run
from portable_nn.training._options import PRINT_EVERY

__all__ = ["CostPrinter", "ProgressBar"]


class CostPrinter(Callback):
    """``print_cost=True``: print ``Cost after iteration i: c`` every 1000 iterations."""

    every = PRINT_EVERY

    def on_record(self, run: Run) -> None:
        """Print the cost of this record point."""
        print(f"Cost after iteration {run.iteration}: {run.cost}")


class ProgressBar(Callback):
    """``progress=True``: a tqdm bar updated at record points (no per-iteration device sync)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.shown = 0

    def on_start(self, run: Run) -> None:
        """Open the bar at the run's starting iteration."""
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:  # pragma: no cover - tqdm is a declared extra
            raise ImportError("progress=True needs tqdm: install the extra: pip install "
                              "'portable-nn[progress]' (from a clone: pip install -e "
                              "'.[progress]')") from exc
        self.shown = run.model.iterations
        self.bar = tqdm(total=run.total, initial=self.shown, unit="it", desc="train")

    def on_record(self, run: Run) -> None:
        """Move the bar to this record point and show its cost."""
        self._advance(run.iteration)
        self.bar.set_postfix(cost=f"{run.cost:.6f}", refresh=False)

    def on_end(self, run: Run) -> None:
        """Move the bar to where the run ended and close it."""
        if self.bar is not None:
            self._advance(run.model.iterations)
            self.bar.close()

    def _advance(self, reached: int) -> None:
        self.bar.update(reached - self.shown)
        self.shown = reached
