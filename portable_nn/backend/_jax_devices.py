"""JAX across several devices: ``device=`` a list of JAX devices or a ``jax.sharding.Mesh``.

The run's :attr:`Backend.device` becomes a replicated ``NamedSharding`` over the mesh: the
parameters, the optimizer state and everything created with ``device=`` live on every device.
The training data are then placed with :func:`shard_samples`, split along the samples axis
(``PartitionSpec(None, axes)``), so a jitted step is compiled once for the whole mesh: XLA
partitions each ``W @ A`` by columns and sums ``dW = dZ A^T`` across the devices.
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_device_group", "replicated_sharding", "shard_samples"]

_DEFAULT_AXIS = "samples"


def is_device_group(device: Any) -> bool:
    """Whether ``device`` is a ``jax.sharding.Mesh`` or a list/tuple of JAX devices."""
    import jax
    from jax.sharding import Mesh

    if isinstance(device, (list, tuple)):
        return len(device) > 0 and all(isinstance(d, jax.Device) for d in device)
    return isinstance(device, Mesh)


def replicated_sharding(device: Any) -> Any:
    """A replicated ``NamedSharding`` over ``device`` (a mesh, or devices made a 1-d mesh)."""
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    if isinstance(device, (list, tuple)):
        if len({d.platform for d in device}) != 1 or len(set(device)) != len(device):
            raise ValueError(f"device={device!r}: a list of JAX devices must hold distinct "
                             "devices of one platform")
        device = Mesh(np.array(device), (_DEFAULT_AXIS,))
    return NamedSharding(device, PartitionSpec())


def shard_samples(array: Any, backend: Any, *, name: str = "array") -> Any:
    """Split ``array``'s columns (samples) across the devices of a multi-device JAX run.

    Returns ``array`` unchanged on a single device (the backend's ``ops`` call it for JAX
    only).

    Raises
    ------
    ValueError
        When the number of columns does not divide evenly among the devices.
    """
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    sharding = backend.device
    if not isinstance(sharding, NamedSharding):
        return array

    mesh = sharding.mesh
    if mesh.size == 1:
        return array
    m = array.shape[1]
    if m % mesh.size:
        raise ValueError(
            f"{name} has {m} samples (columns), which do not split evenly over the "
            f"{mesh.size} devices of device=: give a multiple of {mesh.size} samples"
        )
    by_samples = NamedSharding(mesh, PartitionSpec(None, tuple(mesh.axis_names)))
    return jax.device_put(array, by_samples)
