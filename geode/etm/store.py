"""Trajectory models in ``etms``: one row per term group (polynomial, periodic, each jump) for people and SQL,
plus a ``var_factor`` row whose metadata holds the full model, and whose ``hash`` is the checksum of the
data and configuration it was fitted to. A model is reused only when that checksum matches."""

from __future__ import annotations

import zlib

import numpy as np

from ..dates import GnssDate
from ..jobs import codec
from .fit import EtmFit
from .model import EtmConfig


def checksum(t, xyz, config: EtmConfig) -> int:
    """crc32 of the epochs, coordinates (0.1 mm) and model configuration."""
    data = np.round(np.column_stack([np.asarray(t, float), np.asarray(xyz, float).reshape(-1, 3)]), 4)
    text = codec.dumps(config).encode()
    return zlib.crc32(text, zlib.crc32(np.ascontiguousarray(data).tobytes()))


_MODEL_ROW = ('FROM etms WHERE "NetworkCode" = %s AND "StationCode" = %s AND soln = %s AND stack = %s AND '
              'object = %s')


def _hash_matches(row: dict | None, data_hash: int) -> bool:
    return row is not None and row["hash"] is not None and int(row["hash"]) == data_hash


def has_fit(db, network: str, code: str, soln: str, stack: str, data_hash: int) -> bool:
    """Whether the stored model was fitted to data with this checksum, without decoding it."""
    return _hash_matches(db.query_one("SELECT hash " + _MODEL_ROW, (network, code, soln, stack, "var_factor")),
                         data_hash)


def load_fit(db, network: str, code: str, soln: str, stack: str, data_hash: int) -> EtmFit | None:
    row = db.query_one("SELECT metadata, hash " + _MODEL_ROW, (network, code, soln, stack, "var_factor"))
    return codec.loads(row["metadata"]) if _hash_matches(row, data_hash) else None


def save_fit(db, network: str, code: str, soln: str, stack: str, fit: EtmFit, data_hash: int) -> None:
    """Replace the station's model for (soln, stack) in one transaction."""
    def cols(prefix):
        return [i for i, lab in enumerate(fit.labels) if lab.startswith(prefix)]

    rows = [("polynomial", None, None, None, cols("poly"), None)]
    if fit.frequencies:
        rows.append(("periodic", None, None, list(fit.frequencies), cols("sin") + cols("cos"), None))
    for jump in fit.jumps:
        idx = [i for i, lab in enumerate(fit.labels) if lab.endswith(f"@{jump.fyear:.4f}")]
        kind = {"mechanical": 1, "geophysical": 10, "postseismic": 20}[jump.kind]
        rows.append(("jump", kind, list(jump.relaxation), None, idx, GnssDate.from_fyear(jump.fyear).datetime))
    with db.transaction() as cur:
        cur.execute('DELETE FROM etms WHERE "NetworkCode" = %s AND "StationCode" = %s AND soln = %s AND stack = %s',
                    (network, code, soln, stack))
        for obj, jtype, relax, freqs, idx, jdate in rows:
            cur.execute('INSERT INTO etms ("NetworkCode", "StationCode", soln, object, t_ref, jump_type, relaxation, '
                        'frequencies, params, sigmas, jump_date, stack) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)',
                        (network, code, soln, obj, fit.t_ref, jtype, relax, freqs,
                         fit.params[:, idx].ravel().tolist(), fit.sigmas[:, idx].ravel().tolist(), jdate, stack))
        cur.execute('INSERT INTO etms ("NetworkCode", "StationCode", soln, object, t_ref, params, metadata, hash, stack) '
                    'VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)',
                    (network, code, soln, "var_factor", fit.t_ref, fit.wrms.tolist(),
                     codec.dumps(fit), data_hash, stack))
        from .results import write_extras  # noise, MIDAS and detected offsets (migration 0008)

        write_extras(cur, network, code, soln, stack, fit)
