"""A block of trajectory models as one binary value: how a fit unit on a Celery worker hands its models to the
run's other units and to the coordinator (``stack_work_model_blocks``), instead of one JSON document per model.

``pack_models({station: (EtmFit, series checksum)})`` lays the models' numbers out as a few arrays (every
model's parameters, sigmas, WRMS, outlier flags and optional 3-vectors concatenated, little-endian, exact), and
their few non-numeric fields (frequencies, jumps, labels, notes...) as one JSON document for the whole block,
in the task codec's encoding. ``unpack_models`` rebuilds the same models: equal to what the task codec's round
trip gives, field by field and type by type. A model that does not fit the layout (another class, arrays of
other shapes or types) travels whole in the JSON part, through the task codec.

Decoding 1000 models takes ~10 ms (the task codec: ~50 µs a model); the block is written and read with one
binary COPY row.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import struct

import numpy as np

from ..etm.fit import EtmFit
from ..jobs.codec import from_wire, to_wire

MAGIC = b"GSMB1\n"
_OPTIONAL = ("noise_white", "noise_powerlaw", "noise_kappa", "midas_velocity", "midas_sigma")  # (3,) or None
_REST = ("frequencies", "jumps", "labels", "iterations", "span", "noise_model", "detected", "notes")
_WHOLE = 1 << 8  # flag: the model is in the JSON part, whole


_SCALARS = (str, int, float)  # what the task codec leaves as it is (bool is an int)


def _enc(value):
    """The task codec's encoding of ``value``; lists and tuples of plain scalars without its recursion."""
    kind = type(value)
    if (kind is list or kind is tuple) and all(type(v) in _SCALARS or v is None for v in value):
        return list(value) if kind is list else {"__geode__": "tuple", "items": list(value)}
    return to_wire(value)


def _dec(value):
    """The task codec's decoding of what ``_enc`` gave."""
    kind = type(value)
    if kind is list and all(type(v) in _SCALARS or v is None for v in value):
        return value  # a fresh list: json.loads made it
    if kind is dict and value.get("__geode__") == "tuple" and len(value) == 2 and all(
            type(v) in _SCALARS or v is None for v in value["items"]):
        return tuple(value["items"])
    return from_wire(value)


def _vector(value) -> bool:
    return type(value) is np.ndarray and value.dtype == np.float64 and value.shape == (3,)


def _fast(fit) -> bool:
    """Whether ``fit`` fits the binary layout (else it travels whole through the task codec)."""
    if type(fit) is not EtmFit:
        return False
    p, s, g = fit.params, fit.sigmas, fit.good
    if not (type(p) is np.ndarray and p.dtype == np.float64 and p.ndim == 2 and p.shape[0] == 3):
        return False
    if not (type(s) is np.ndarray and s.dtype == np.float64 and s.shape == p.shape):
        return False
    if not (_vector(fit.wrms) and type(g) is np.ndarray and g.dtype == np.bool_ and g.ndim == 1):
        return False
    if not all(getattr(fit, k) is None or _vector(getattr(fit, k)) for k in _OPTIONAL):
        return False
    return (isinstance(fit.t_ref, (float, np.floating)) and type(fit.poly_terms) is int
            and type(fit.epochs) is int)


class _NoCollection:
    """The cyclic garbage collector off while a block is (de)coded: the thousands of small lists and dicts it
    creates trigger collections, which in a worker holding a run's state (every station's metadata, the rows)
    cost several times the decoding itself. Nothing created here forms a cycle."""

    def __enter__(self):
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.enabled:
            gc.enable()


def pack_models(mapping: dict[int, tuple[object, int]]) -> bytes:
    """The models ``{station: (fit, checksum)}`` as one binary value (stations in order)."""
    with _NoCollection():
        return _pack(mapping)


def unpack_models(blob) -> dict[int, tuple[object, int]]:
    """What ``pack_models`` packed: {station: (fit, checksum)}."""
    with _NoCollection():
        return _unpack(blob)


def _pack(mapping):
    stations = sorted(int(k) for k in mapping)
    k = len(stations)
    ints = np.zeros((k, 6), dtype="<i8")  # station, checksum, poly_terms, epochs, parameter columns, flags
    floats = np.zeros((k, 1 + 3 * len(_OPTIONAL)), dtype="<f8")  # t_ref, the optional 3-vectors
    params, sigmas, wrms, good, rest = [], [], [], [], []
    for i, s in enumerate(stations):
        fit, data_hash = mapping[s]
        ints[i, 0], ints[i, 1] = s, int(data_hash)
        if not _fast(fit):
            ints[i, 5] = _WHOLE
            rest.append(to_wire(fit))
            continue
        m = fit.params.shape[1]
        flags = 0
        for j, name in enumerate(_OPTIONAL):
            value = getattr(fit, name)
            if value is not None:
                flags |= 1 << j
                floats[i, 1 + 3 * j:4 + 3 * j] = value
        ints[i, 2:] = fit.poly_terms, fit.epochs, m, flags
        floats[i, 0] = fit.t_ref
        params.append(fit.params.ravel())
        sigmas.append(fit.sigmas.ravel())
        wrms.append(fit.wrms)
        good.append(fit.good)
        rest.append([_enc(getattr(fit, name)) for name in _REST])
    text = json.dumps(rest, allow_nan=True, separators=(",", ":")).encode()
    sizes = np.asarray([len(g) for g in good], dtype="<i8")  # epochs of each outlier mask
    parts = [ints.tobytes(), floats.tobytes(), sizes.tobytes()]
    for arrays, dtype in ((params, "<f8"), (sigmas, "<f8"), (wrms, "<f8"), (good, "u1")):
        parts.append((np.concatenate(arrays) if arrays else np.zeros(0)).astype(dtype).tobytes())
    head = struct.pack("<qqq", k, len(text), len(sizes))
    return b"".join([MAGIC, head, text] + parts)


def _unpack(blob):
    view = memoryview(blob)
    if bytes(view[:len(MAGIC)]) != MAGIC:
        raise ValueError("not a block of models (stack_work_model_blocks)")
    at = len(MAGIC)
    k, n_text, n_fast = struct.unpack_from("<qqq", view, at)
    at += 24
    rest = json.loads(bytes(view[at:at + n_text]))
    at += n_text

    def take(dtype, count):
        nonlocal at
        out = np.frombuffer(view, dtype=dtype, count=count, offset=at).astype(np.dtype(dtype).newbyteorder("="))
        at += out.nbytes
        return out

    ints = take("<i8", 6 * k).reshape(k, 6)
    floats = take("<f8", (1 + 3 * len(_OPTIONAL)) * k).reshape(k, 1 + 3 * len(_OPTIONAL))
    sizes = take("<i8", n_fast)
    widths = 3 * ints[ints[:, 5] & _WHOLE == 0, 4]
    params = take("<f8", int(widths.sum()))
    sigmas = take("<f8", int(widths.sum()))
    wrms = take("<f8", 3 * n_fast)
    good = take("u1", int(sizes.sum())).astype(bool)
    if at != len(view):
        raise ValueError("a block of models of unexpected size")
    ends_p, ends_g = np.cumsum(widths), np.cumsum(sizes)
    out: dict[int, tuple[object, int]] = {}
    f = 0
    ints_l, floats_l = ints.tolist(), floats.tolist()
    for i in range(k):
        s, data_hash, poly_terms, epochs, m, flags = ints_l[i]
        if flags & _WHOLE:
            out[s] = (from_wire(rest[i]), data_hash)
            continue
        a, b = ends_p[f] - widths[f], ends_p[f]
        g0, g1 = ends_g[f] - sizes[f], ends_g[f]
        frequencies, jumps, labels, iterations, span, noise_model, detected, notes = map(_dec, rest[i])
        optional = [np.array(floats_l[i][1 + 3 * j:4 + 3 * j]) if flags >> j & 1 else None
                    for j in range(len(_OPTIONAL))]
        out[s] = (EtmFit(floats_l[i][0], poly_terms, frequencies, jumps, labels, params[a:b].reshape(3, m),
                         sigmas[a:b].reshape(3, m), wrms[3 * f:3 * f + 3], good[g0:g1], iterations, epochs, span,
                         noise_model, *optional, detected, notes), data_hash)
        f += 1
    return out


def _check_layout() -> None:
    """The positional EtmFit(...) call above follows the dataclass's field order (checked at import)."""
    names = [f.name for f in dataclasses.fields(EtmFit)]
    expected = ["t_ref", "poly_terms", "frequencies", "jumps", "labels", "params", "sigmas", "wrms", "good",
                "iterations", "epochs", "span", "noise_model", *_OPTIONAL, "detected", "notes"]
    if names != expected:
        raise ImportError(f"geode.stack.packing: EtmFit's fields changed ({names}): update the block layout")


_check_layout()
