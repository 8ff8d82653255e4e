"""Coloured-noise maximum likelihood for one component of a trajectory model: white noise plus power-law noise
(flicker by default), estimated jointly with the model's parameters, with gaps and irregular sampling.

The model
---------
    y = A x + e,   e = white + power-law,   C = cov(e) = sigma_w^2 I + sigma_pl^2 dT^(-kappa/2) G(kappa)

sigma_w is the white-noise amplitude (m); sigma_pl the power-law amplitude in m / yr^(-kappa/4) (flicker,
kappa = -1: m / yr^0.25), the convention of Williams (2003, J. Geodesy 76:483-494) and of Hector/CATS; dT the
sampling interval (years, the median epoch spacing). In Williams' (Hosking's) formulation G = T T' with T the
lower-triangular Toeplitz matrix of the fractional-integration filter (1 - B)^(kappa/2); its spectrum is
|1 - exp(-i w)|^kappa ~ w^kappa per sample.

How the likelihood is computed (exactly, without an n x n matrix)
-----------------------------------------------------------------
The power-law process is written as a sum of K first-order Gauss-Markov (Ornstein-Uhlenbeck) processes with
log-spaced rates lambda_j, one per decade from 1/sample down to 1/(10 x span), each started at zero at the first
epoch (as Williams' noise is), with variances chosen so that the sum has the spectrum w^kappa: the identity

    w^kappa = cos(pi (kappa + 1) / 2) / pi  *  Integral lambda^(kappa + 1) 2 lambda / (lambda^2 + w^2) d ln lambda

discretised with the trapezoidal rule in ln lambda (its ripple is below a few per cent; the sum of
Gauss-Markov processes for 1/f noise goes back to Keshner 1982 and is how Dmitrieva et al. 2015, J. Geodesy
89:591-606, put flicker noise into a Kalman filter). That sum is a linear state-space model whose state at the
observed epochs has a block-tridiagonal precision matrix Q (any gaps: the transition over a gap of g samples is
exp(-lambda g)). With H summing the states at each epoch:

    C = sigma_w^2 I + H Q^-1 H'    (Woodbury / matrix determinant lemma)
    C^-1 B = (B - H M^-1 H' B / sigma_w^2) / sigma_w^2,   M = Q + H'H / sigma_w^2   (banded, bandwidth K)
    log det C = n log sigma_w^2 + log det M - log det Q

so each likelihood evaluation is one banded Cholesky factorisation (LAPACK dpbtrf) and one banded triangular
solve for the design matrix and data, O(n K^3): about 25 ms for 9000 daily epochs. This is the exact
likelihood of the Gauss-Markov-sum model (the approximation is only in representing the power law by that sum),
the same footing as Hector's Toeplitz approximation of power-law noise (Bos et al. 2013, J. Geodesy 87:351-360).
The test suite checks its rate uncertainties against generalised least squares with Williams' exact (dense)
covariance, and its amplitudes and rate sigmas against simulations.

Estimation: x is profiled out by generalised least squares and the overall variance scale analytically, so
the optimiser works on log(sigma_pl^2 / sigma_w^2) alone for white+flicker (bounded Brent) and on that plus
kappa for power-law+white (Nelder-Mead). The likelihood is the restricted (REML) one: it accounts for the
degrees of freedom the trajectory model takes (offsets, trend, steps absorb low-frequency noise), which the
plain likelihood does not, and so reduces the known downward bias of coloured-noise amplitudes in short series.
Parameter covariance is the GLS one, (A' C^-1 A)^-1, at the estimated noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WHITE = "white"
FLICKER = "white+flicker"
POWERLAW = "powerlaw+white"
NOISE_MODELS = (WHITE, FLICKER, POWERLAW)

KAPPA_BOUNDS = (-1.9, -0.1)
LOG_RATIO_BOUNDS = (-12.0, 12.0)  # ln(sigma_pl_sample^2 / sigma_w^2)
PER_DECADE = 1.0  # Gauss-Markov processes per decade of rate
TOP_NODES = 1  # processes above 1/sample (the power law near the Nyquist frequency)


@dataclass
class NoiseEstimate:
    model: str
    white: float  # m
    powerlaw: float  # m / yr^(-kappa/4); 0 for the white model
    kappa: float  # spectral index (-1 flicker; 0 for the white model)
    params: np.ndarray  # (m,) GLS parameters
    covariance: np.ndarray  # (m, m)
    loglik: float  # the (restricted) log-likelihood at the estimate
    evaluations: int = 0
    log_ratio: float | None = None  # ln(per-sample power-law variance / white variance); None: white only


def gls_gram(t, B, estimate: NoiseEstimate) -> np.ndarray:
    """B' C^-1 B for the columns of B at epochs t under an estimated noise model (fixed)."""
    lik = _Likelihood(t, np.asarray(B)[:, :-1], np.asarray(B)[:, -1], True)
    if estimate.log_ratio is None:
        return lik.BtB / estimate.white ** 2
    return lik.gram(estimate.log_ratio, estimate.kappa)[0] / estimate.white ** 2


class _PowerLawStates:
    """The Gauss-Markov-sum representation of power-law noise at the epochs t (see the module docstring)."""

    def __init__(self, t: np.ndarray):
        t = np.asarray(t, dtype=float)
        steps = np.diff(t)
        self.dt = float(np.median(steps)) if len(steps) else 1.0 / 365.25
        u = (t - t[0]) / self.dt  # time in samples
        span = max(float(u[-1]), 1.0)
        decades = math.log10(10.0 * span)
        self.K = max(2, int(math.ceil(decades * PER_DECADE)) + 1) + TOP_NODES
        self.h = decades / (self.K - 1 - TOP_NODES) * math.log(10.0)  # node spacing in ln(lambda)
        self.rates = np.exp(-self.h * (np.arange(self.K) - TOP_NODES))  # 10/sample down to ~ 1/(10 span)
        g = np.diff(u)
        self.rho = np.exp(-np.outer(g, self.rates))  # (n-1, K) transition over each gap
        self.n = len(t)
        self._weights: dict[float, np.ndarray] = {}

    def variances(self, kappa: float) -> np.ndarray:
        """Stationary variance of each process for unit per-sample power-law scale: non-negative least squares
        fit of the sum's sampled spectrum to the power law's, sum_j v_j (1 - r_j^2) / |1 - r_j e^(-iw)|^2 =
        |1 - e^(-iw)|^kappa, relative error over w from 1/(span) to pi (cached per index)."""
        key = round(kappa, 6)
        if key not in self._weights:
            from scipy.optimize import nnls

            w = np.exp(np.linspace(math.log(self.rates[-1] * 3.0), math.log(math.pi), 160))
            target = np.abs(1.0 - np.exp(-1j * w)) ** kappa
            r = np.exp(-self.rates)
            basis = (1.0 - r ** 2) / np.abs(1.0 - np.outer(np.exp(-1j * w), r)) ** 2
            self._weights[key] = nnls(basis / target[:, None], np.ones_like(w))[0]
        return self._weights[key]

    def precision(self, kappa: float, scale: float):
        """Band of Q (diagonal (n, K), sub-diagonal at lag K (n-1, K)) and log det Q, for processes of variance
        scale * variances(kappa) started at zero one sample before the first epoch."""
        v = scale * self.variances(kappa)
        q0 = v * (1.0 - np.exp(-2.0 * self.rates))  # first state: one sample of innovation
        q = v * (1.0 - self.rho ** 2)  # innovation variance over each gap
        q = np.maximum(q, 1e-300)
        diag = np.empty((self.n, self.K))
        diag[0] = 1.0 / q0
        diag[1:] = 1.0 / q
        diag[:-1] += self.rho ** 2 / q
        off = -self.rho / q
        logdet_q = -(np.log(q0).sum() + np.log(q).sum())
        return diag, off, logdet_q


class _Likelihood:
    def __init__(self, t, A, y, reml: bool = True):
        self.states = _PowerLawStates(t)
        self.A = np.asarray(A, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.B = np.column_stack([self.A, self.y])
        self.BtB = self.B.T @ self.B
        self.HtB = np.asfortranarray(np.repeat(self.B, self.states.K, axis=0))  # H' B: each epoch's row K times
        self.reml = reml
        self.evaluations = 0

    def gram(self, log_ratio: float, kappa: float):
        """B' C~^-1 B and log det C~ for C~ = I + ratio * G (white variance 1)."""
        from scipy.linalg import lapack

        s = self.states
        n, K = s.n, s.K
        diag, off, logdet_q = s.precision(kappa, math.exp(log_ratio))
        ab = np.zeros((K + 1, n * K))
        ab[0] = (diag + 1.0).ravel()  # + H'H: ones within each epoch's K x K block
        for i in range(1, K):
            band = ab[i].reshape(n, K)
            band[:, :K - i] = 1.0
        ab[K].reshape(n, K)[:-1] = off
        chol, info = lapack.dpbtrf(ab, lower=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"noise model precision not positive definite (info {info})")
        W, info = lapack.dtbtrs(chol, self.HtB, uplo="L")
        logdet_m = 2.0 * np.log(chol[0]).sum()
        self.evaluations += 1
        return self.BtB - W.T @ W, logdet_m - logdet_q

    def profile(self, log_ratio: float | None, kappa: float):
        """(-2 x restricted profile log-likelihood, params, unscaled covariance, white variance)."""
        m = self.A.shape[1]
        n = len(self.y)
        if log_ratio is None:  # white noise only
            G, logdet = self.BtB, 0.0
        else:
            G, logdet = self.gram(log_ratio, kappa)
        N, b, yy = G[:m, :m], G[:m, m], G[m, m]
        L = np.linalg.cholesky(N)
        z = np.linalg.solve(L, b)
        x = np.linalg.solve(L.T, z)
        rss = max(float(yy - z @ z), 1e-300)
        dof = n - m if self.reml else n
        s2 = rss / dof
        obj = dof * math.log(s2) + logdet + dof
        if self.reml:
            obj += 2.0 * np.log(np.diag(L)).sum()
        Linv = np.linalg.inv(L)
        return obj + dof * math.log(2 * math.pi), x, Linv.T @ Linv, s2


def estimate_noise(t, A, y, model: str = FLICKER, *, reml: bool = True) -> NoiseEstimate:
    """Noise amplitudes and GLS parameters of y = A x + noise at epochs t (years)."""
    if model not in NOISE_MODELS:
        raise ValueError(f"noise model {model!r}: one of {', '.join(NOISE_MODELS)}")
    lik = _Likelihood(t, A, y, reml)
    if model == WHITE or len(y) - A.shape[1] < 8:
        obj, x, cov, s2 = lik.profile(None, 0.0)
        return NoiseEstimate(WHITE, math.sqrt(s2), 0.0, 0.0, x, cov * s2, -0.5 * obj, lik.evaluations)
    from scipy.optimize import minimize, minimize_scalar

    def f1(lr, kappa=-1.0):
        try:
            return lik.profile(lr, kappa)[0]
        except np.linalg.LinAlgError:
            return np.inf

    if model == FLICKER:
        kappa = -1.0
        res = minimize_scalar(f1, bounds=LOG_RATIO_BOUNDS, method="bounded", options={"xatol": 1e-2})
        lr = float(res.x)
    else:
        # start from the flicker optimum, then free the index
        r0 = minimize_scalar(f1, bounds=LOG_RATIO_BOUNDS, method="bounded", options={"xatol": 5e-2})

        def f2(p):
            k = min(max(p[1], KAPPA_BOUNDS[0]), KAPPA_BOUNDS[1])
            lr_ = min(max(p[0], LOG_RATIO_BOUNDS[0]), LOG_RATIO_BOUNDS[1])
            penalty = (p[1] - k) ** 2 * 1e3 + (p[0] - lr_) ** 2 * 1e3
            return f1(lr_, k) + penalty

        res = minimize(f2, [float(r0.x), -1.0], method="Nelder-Mead",
                       options={"xatol": 1e-2, "fatol": 1e-3, "initial_simplex": [[r0.x, -1.0], [r0.x + 1, -1.0],
                                                                                   [r0.x, -0.6]]})
        lr = min(max(float(res.x[0]), LOG_RATIO_BOUNDS[0]), LOG_RATIO_BOUNDS[1])
        kappa = min(max(float(res.x[1]), KAPPA_BOUNDS[0]), KAPPA_BOUNDS[1])
    obj_w = lik.profile(None, 0.0)[0]
    obj, x, cov, s2 = lik.profile(lr, kappa)
    white = math.sqrt(s2)
    # per-sample power-law scale -> amplitude in m / yr^(-kappa/4)
    pl = math.sqrt(s2 * math.exp(lr)) / lik.states.dt ** (-kappa / 4.0)
    if obj_w <= obj:  # the coloured model does not beat white noise (ratio at its lower bound)
        obj, x, cov, s2 = lik.profile(None, 0.0)
        return NoiseEstimate(model, math.sqrt(s2), 0.0, kappa, x, cov * s2, -0.5 * obj, lik.evaluations)
    return NoiseEstimate(model, white, pl, kappa, x, cov * s2, -0.5 * obj, lik.evaluations, lr)


# --- reference formulas and simulation (tests and benchmarks) ------------------------------------------------------

def hosking_filter(n: int, kappa: float) -> np.ndarray:
    """psi_k of Williams' (2003) power-law noise: the impulse response of (1 - B)^(kappa/2)."""
    d = -kappa / 2.0
    psi = np.empty(n)
    psi[0] = 1.0
    k = np.arange(1, n)
    psi[1:] = np.cumprod((d + k - 1.0) / k)
    return psi


def simulate_powerlaw(rng, n: int, kappa: float, amplitude: float, dt: float, size=None) -> np.ndarray:
    """Power-law noise on a regular grid of n samples (Williams 2003: T w by FFT convolution), amplitude in
    m / yr^(-kappa/4); ``size`` extra leading dimensions give independent series."""
    shape = (() if size is None else tuple(np.atleast_1d(size))) + (n,)
    w = rng.standard_normal(shape)
    psi = hosking_filter(n, kappa)
    nfft = 1 << (2 * n - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(w, nfft) * np.fft.rfft(psi, nfft), nfft)[..., :n]
    return out * amplitude * dt ** (-kappa / 4.0)
