"""Where a warning should point: the user's line, the first frame outside portable_nn."""

from __future__ import annotations

import os
import sys
from types import FrameType

__all__ = ["user_stacklevel"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first frame outside portable_nn.

    Call it in the function that calls :func:`warnings.warn` and pass the result: the
    warning then names the user's file and line (their script, a test, scikit-learn calling
    an estimator), however deep inside the package it was issued.

    Returns
    -------
    int
        1 for the calling function itself, 2 for its caller, and so on.

    Examples
    --------
    >>> import warnings
    >>> def issue():
    ...     warnings.warn("here", UserWarning, stacklevel=user_stacklevel())
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     issue()
    >>> caught[0].filename.startswith(_PACKAGE)
    False
    """
    frame: FrameType | None = sys._getframe(1)  # the function about to warn: stacklevel 1
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level
