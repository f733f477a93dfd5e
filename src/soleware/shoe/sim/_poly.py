"""Piecewise polynomials in normalised time and 3-D rotation helpers for the foot model (vectorised)."""

from __future__ import annotations

import numpy as np

#: number of coefficients of every segment polynomial (degree 11 holds a quintic plus the widest bump)
N_COEF = 12


def hermite5(
    p0: np.ndarray,
    v0: np.ndarray,
    a0: np.ndarray,
    p1: np.ndarray,
    v1: np.ndarray,
    a1: np.ndarray,
    duration_s: np.ndarray,
) -> np.ndarray:
    """Coefficients (n, N_COEF) in s = (t - t0) / T of the quintic meeting position, rate and acceleration."""
    T = np.asarray(duration_s, dtype=float)
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    V0, V1 = np.asarray(v0, float) * T, np.asarray(v1, float) * T
    A0, A1 = np.asarray(a0, float) * T * T, np.asarray(a1, float) * T * T
    d = p1 - p0
    c = np.zeros(np.broadcast(p0, T).shape + (N_COEF,))
    c[..., 0] = p0
    c[..., 1] = V0
    c[..., 2] = 0.5 * A0
    c[..., 3] = 10 * d - 6 * V0 - 4 * V1 - 0.5 * (3 * A0 - A1)
    c[..., 4] = -15 * d + 8 * V0 + 7 * V1 + 0.5 * (3 * A0 - 2 * A1)
    c[..., 5] = 6 * d - 3 * (V0 + V1) - 0.5 * (A0 - A1)
    return c


def bump(a: int, b: int) -> np.ndarray:
    """Coefficients of s^a (1 - s)^b scaled to a peak of 1 (at s = a / (a + b)); flat to 2nd order at both ends."""
    poly = np.polynomial.polynomial.polymul(
        np.eye(a + 1)[a], np.polynomial.polynomial.polypow([1.0, -1.0], b)
    )
    peak = a / (a + b)
    scale = peak**a * (1 - peak) ** b
    out = np.zeros(N_COEF)
    out[: len(poly)] = poly / scale
    return out


_K = np.arange(N_COEF, dtype=float)


def evaluate(
    coef: np.ndarray, seg: np.ndarray, s: np.ndarray, duration_s: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Value, first and second time derivative of segment polynomials ``coef[seg]`` at normalised time ``s``.

    ``coef`` is (n_seg, n_channels, N_COEF); the results are (n, n_channels). Trailing zero coefficients are
    skipped.
    """
    used = np.flatnonzero(np.any(coef != 0.0, axis=(0, 1)))
    top = int(used[-1]) if len(used) else 0
    by_power = np.ascontiguousarray(np.moveaxis(coef[:, :, : top + 1], 2, 0))
    s = s[:, None]
    val = by_power[top][seg]
    d1 = np.zeros_like(val)
    d2 = np.zeros_like(val)
    for k in range(top - 1, -1, -1):
        d2 *= s
        d2 += 2.0 * d1
        d1 *= s
        d1 += val
        val *= s
        val += by_power[k][seg]
    inv_t = 1.0 / duration_s[seg][:, None]
    d1 *= inv_t
    d2 *= inv_t * inv_t
    return val, d1, d2


def to_body(
    cp: np.ndarray,
    sp: np.ndarray,
    cb: np.ndarray,
    sb: np.ndarray,
    cf: np.ndarray,
    sf: np.ndarray,
    v: np.ndarray,
) -> np.ndarray:
    """R^T v for R = Rz(psi) Ry(beta) Rx(phi), from the angles' cosines and sines; v is (n, 3)."""
    x = cp * v[:, 0] + sp * v[:, 1]
    y = -sp * v[:, 0] + cp * v[:, 1]
    x, z = cb * x - sb * v[:, 2], sb * x + cb * v[:, 2]
    y, z = cf * y + sf * z, -sf * y + cf * z
    return np.column_stack([x, y, z])


def to_world(
    cp: np.ndarray,
    sp: np.ndarray,
    cb: np.ndarray,
    sb: np.ndarray,
    cf: np.ndarray,
    sf: np.ndarray,
    v: np.ndarray,
) -> np.ndarray:
    """R v for R = Rz(psi) Ry(beta) Rx(phi); v is (n, 3) or (3,)."""
    v = np.broadcast_to(v, (len(cp), 3))
    y = cf * v[:, 1] - sf * v[:, 2]
    z = sf * v[:, 1] + cf * v[:, 2]
    x = cb * v[:, 0] + sb * z
    z = -sb * v[:, 0] + cb * z
    return np.column_stack([cp * x - sp * y, sp * x + cp * y, z])


def body_rates(
    cb: np.ndarray,
    sb: np.ndarray,
    cf: np.ndarray,
    sf: np.ndarray,
    psi: np.ndarray,
    beta: np.ndarray,
    phi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Body-frame angular velocity and acceleration of Rz(psi) Ry(beta) Rx(phi); each angle array is
    (n, 3): angle, rate, acceleration."""
    dp, ddp = psi[:, 1], psi[:, 2]
    db, ddb = beta[:, 1], beta[:, 2]
    df, ddf = phi[:, 1], phi[:, 2]
    w = np.column_stack([df - dp * sb, db * cf + dp * cb * sf, -db * sf + dp * cb * cf])
    a = np.column_stack(
        [
            ddf - ddp * sb - dp * db * cb,
            ddb * cf - db * df * sf + ddp * cb * sf - dp * db * sb * sf + dp * df * cb * cf,
            -ddb * sf - db * df * cf + ddp * cb * cf - dp * db * sb * cf - dp * df * cb * sf,
        ]
    )
    return w, a


def rot_x(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def euler_zyx(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """R = Rz(yaw) Ry(pitch) Rx(roll) (body to world); pitch is about y, so toe-up is a negative pitch here."""
    return rot_z(yaw) @ rot_y(pitch) @ rot_x(roll)


def euler_rates(
    psi: tuple[np.ndarray, np.ndarray, np.ndarray],
    beta: tuple[np.ndarray, np.ndarray, np.ndarray],
    phi: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """World-frame angular velocity and acceleration of Rz(psi) Ry(beta) Rx(phi) from angle, rate, acceleration."""
    p, dp, ddp = psi
    b, db, ddb = beta
    _, df, ddf = phi
    zero = np.zeros_like(p)
    ez = np.stack([zero, zero, zero + 1.0], -1)
    u = np.stack([-np.sin(p), np.cos(p), zero], -1)
    du = dp[:, None] * np.stack([-np.cos(p), -np.sin(p), zero], -1)
    w = np.stack([np.cos(p) * np.cos(b), np.sin(p) * np.cos(b), -np.sin(b)], -1)
    w_zy = dp[:, None] * ez + db[:, None] * u
    omega = w_zy + df[:, None] * w
    alpha = ddp[:, None] * ez + ddb[:, None] * u + db[:, None] * du + ddf[:, None] * w
    alpha += df[:, None] * np.cross(w_zy, w)
    return omega, alpha
