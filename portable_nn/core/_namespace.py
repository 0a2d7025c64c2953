"""The array namespace of a core function's call, inferred from *all* of its arrays.

:func:`infer_namespace` takes the call's arguments by name (an array, a dict of arrays, or
``None``) and returns their one namespace. Mixed libraries are a :class:`TypeError` that
names which argument holds which library. The core functions call it only when ``xp`` is
omitted: a caller that passes ``xp`` (the training loop, once per call) vouches for its arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

from array_api_compat import array_namespace

__all__ = ["infer_namespace"]

_SCALARS = (bool, int, float, complex)


def infer_namespace(**arguments: Any) -> ModuleType:
    """The one array namespace of every array in ``arguments``, in the order given.

    Parameters
    ----------
    **arguments : array, dict of arrays or None
        The call's arguments by name; dict values (and Python scalars, ignored) are included.

    Returns
    -------
    namespace
        The array-API namespace all the arrays share.

    Raises
    ------
    TypeError
        When the arrays come from more than one library, or a value is not an array: the
        message names the arguments (``params['W1']``, ``X``) and their libraries.

    Examples
    --------
    >>> import numpy as np
    >>> infer_namespace(X=np.ones((2, 3)), params={"W1": np.ones((1, 2))}).__name__
    'array_api_compat.numpy'
    """
    arrays = [a for value in arguments.values() if value is not None
              for a in (value.values() if isinstance(value, dict) else (value,))]
    try:
        return array_namespace(*arrays)
    except TypeError as exc:
        raise TypeError(_diagnosis(arguments, str(exc))) from None


def _labelled(arguments: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, value in arguments.items():
        if isinstance(value, dict):
            yield from ((f"{name}[{key!r}]", item) for key, item in value.items())
        elif value is not None:
            yield name, value


def _diagnosis(arguments: dict[str, Any], refusal: str) -> str:
    """Why ``array_namespace`` refused the arrays: the first one that disagrees, by name."""
    first: tuple[str, str] | None = None
    for label, value in _labelled(arguments):
        if isinstance(value, _SCALARS):
            continue
        try:
            library = library_name(array_namespace(value))
        except TypeError:
            return (f"{label} is a {type(value).__name__}, not an array of a supported library "
                    "(numpy, cupy, torch, jax, dask, array_api_strict)")
        if first is None:
            first = (label, library)
        elif library != first[1]:
            return (f"{label} is a {library} array but {first[0]} is a {first[1]} array: "
                    "every array must come from one library; move them with "
                    "portable_nn.backend.to_backend")
    if first is None:
        return "no array given: pass at least one array, or the namespace as xp="
    return refusal


def library_name(namespace: ModuleType) -> str:
    """The library a namespace belongs to: ``"numpy"``, ``"torch"``, ``"jax"``, ...

    Examples
    --------
    >>> import numpy as np
    >>> from array_api_compat import array_namespace
    >>> library_name(array_namespace(np.ones(1)))
    'numpy'
    """
    name = namespace.__name__.removeprefix("array_api_compat.")
    return name.split(".")[0]
