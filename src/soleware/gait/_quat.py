"""Vectorised unit-quaternion algebra, scalar-last ``(x, y, z, w)`` like scipy's ``Rotation``.

A quaternion ``q`` here rotates vectors from the sensor frame into the navigation frame: ``v_nav = q ⊗ v ⊗ q*``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cumulative_product", "from_rotvec", "multiply", "conjugate", "rotate", "to_rotvec", "normalize"]


def multiply(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product ``p ⊗ q`` of quaternion arrays (broadcasting over leading axes)."""
    px, py, pz, pw = p[..., 0], p[..., 1], p[..., 2], p[..., 3]
    qx, qy, qz, qw = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    out = np.empty(np.broadcast_shapes(p.shape, q.shape))
    out[..., 0] = pw * qx + px * qw + py * qz - pz * qy
    out[..., 1] = pw * qy - px * qz + py * qw + pz * qx
    out[..., 2] = pw * qz + px * qy - py * qx + pz * qw
    out[..., 3] = pw * qw - px * qx - py * qy - pz * qz
    return out


def conjugate(q: np.ndarray) -> np.ndarray:
    out = q.copy()
    out[..., :3] *= -1.0
    return out


def normalize(q: np.ndarray) -> np.ndarray:
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def from_rotvec(rv: np.ndarray) -> np.ndarray:
    """Quaternion of a rotation vector (axis × angle, rad)."""
    angle = np.linalg.norm(rv, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(x/2)/x without dividing by zero: its Taylor series is exact enough below 1e-4 rad.
    small = angle < 1e-4
    scale = np.where(small, 0.5 - angle**2 / 48.0, np.sin(half) / np.where(small, 1.0, angle))
    return np.concatenate((rv * scale, np.cos(half)), axis=-1)


def to_rotvec(q: np.ndarray) -> np.ndarray:
    """Rotation vector of a quaternion (the shorter of the two equivalent rotations)."""
    q = np.where(q[..., 3:4] < 0, -q, q)
    vec = q[..., :3]
    s = np.linalg.norm(vec, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, q[..., 3:4])
    small = s < 1e-9
    scale = np.where(small, 2.0, angle / np.where(small, 1.0, s))
    return vec * scale


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` by quaternions ``q`` (sensor → navigation frame)."""
    qv = q[..., :3]
    w = q[..., 3:4]
    t = 2.0 * np.cross(qv, v)
    return v + w * t + np.cross(qv, t)


def cumulative_product(increments: np.ndarray, *, block: int = 256) -> np.ndarray:
    """``out[k] = inc[0] ⊗ inc[1] ⊗ … ⊗ inc[k]`` by a blocked parallel scan (associativity).

    A log-depth scan inside blocks of ``block`` quaternions, the same over the blocks' totals, then one pass
    that puts each block behind the product of all before it: O(n log block) work, no per-sample Python loop,
    so strapdown attitude integration stays vectorised.
    """
    n = len(increments)
    if n <= block:
        out = increments.copy()
        step = 1
        while step < n:
            out[step:] = multiply(out[:-step], out[step:])
            step *= 2
        return normalize(out)
    nb = -(-n // block)
    pad = np.zeros((nb * block - n, 4))
    pad[:, 3] = 1.0
    x = np.concatenate((increments, pad)).reshape(nb, block, 4)
    step = 1
    while step < block:
        x[:, step:] = multiply(x[:, :-step], x[:, step:])
        step *= 2
    x = normalize(x)
    before = cumulative_product(x[:, -1], block=block)
    x[1:] = multiply(before[:-1, None, :], x[1:])
    return normalize(x.reshape(-1, 4)[:n])
