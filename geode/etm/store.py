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


def config_text(config: EtmConfig) -> bytes:
    """The model configuration as the checksum sees it."""
    return codec.dumps(config).encode()


def checksum(t, xyz, config: EtmConfig, *, text: bytes | None = None) -> int:
    """crc32 of the epochs, coordinates (0.1 mm) and model configuration (``text``: its ``config_text``, when
    the caller has it already)."""
    data = np.round(np.column_stack([np.asarray(t, float), np.asarray(xyz, float).reshape(-1, 3)]), 4)
    text = config_text(config) if text is None else text
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


def _model_rows(fit: EtmFit, data_hash: int) -> list[tuple]:
    """The etms rows of one model: (object, t_ref, jump_type, relaxation, frequencies, params, sigmas, metadata,
    hash, jump_date), in the order save_fit writes them."""
    def cols(prefix):
        return [i for i, lab in enumerate(fit.labels) if lab.startswith(prefix)]

    def terms(idx):
        return fit.params[:, idx].ravel().tolist(), fit.sigmas[:, idx].ravel().tolist()

    rows = [("polynomial", fit.t_ref, None, None, None, *terms(cols("poly")), None, None, None)]
    if fit.frequencies:
        rows.append(("periodic", fit.t_ref, None, None, list(fit.frequencies), *terms(cols("sin") + cols("cos")),
                     None, None, None))
    for jump in fit.jumps:
        idx = [i for i, lab in enumerate(fit.labels) if lab.endswith(f"@{jump.fyear:.4f}")]
        kind = {"mechanical": 1, "geophysical": 10, "postseismic": 20}[jump.kind]
        rows.append(("jump", fit.t_ref, kind, list(jump.relaxation), None, *terms(idx), None, None,
                     GnssDate.from_fyear(jump.fyear).datetime))
    rows.append(("var_factor", fit.t_ref, None, None, None, fit.wrms.tolist(), None, codec.dumps(fit), data_hash, None))
    return rows


def save_fit(db, network: str, code: str, soln: str, stack: str, fit: EtmFit, data_hash: int) -> None:
    """Replace the station's model for (soln, stack) in one transaction."""
    save_fits(db, soln, stack, [(network, code, fit, data_hash)])


def stored_hashes(db, soln: str, stack: str, stations: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """{(network, code): checksum} of the stored models of these stations (one query)."""
    if not stations:
        return {}
    rows = db.query('SELECT e."NetworkCode" AS net, e."StationCode" AS stn, e.hash FROM etms e JOIN '
                    'unnest(%s::varchar[], %s::varchar[]) AS u(net, stn) ON e."NetworkCode" = u.net AND '
                    'e."StationCode" = u.stn WHERE e.soln = %s AND e.stack = %s AND e.object = %s AND e.hash IS NOT NULL',
                    ([n for n, _ in stations], [c for _, c in stations], soln, stack, "var_factor"))
    return {(r["net"], r["stn"]): int(r["hash"]) for r in rows}


def _pg_array(values) -> str | None:
    return None if values is None else "{" + ",".join(repr(float(v)) for v in values) + "}"


def save_fits(db, soln: str, stack: str, items: list[tuple[str, str, EtmFit, int]]) -> None:
    """Replace the models of many stations for (soln, stack) in one transaction: one DELETE for all of them and
    one COPY of all their rows (with their noise/MIDAS/offset rows, ``results.write_extras_many``).
    ``items``: (network, code, fit, data checksum)."""
    import csv
    import io

    if not items:
        return
    buf = io.StringIO()
    out = csv.writer(buf)
    for network, code, fit, data_hash in items:
        for obj, t_ref, jtype, relax, freqs, params, sigmas, metadata, h, jdate in _model_rows(fit, data_hash):
            out.writerow([network, code, soln, obj, repr(float(t_ref)), "" if jtype is None else jtype,
                          _pg_array(relax) or "", _pg_array(freqs) or "", _pg_array(params) or "",
                          _pg_array(sigmas) or "", "" if metadata is None else metadata, "" if h is None else h,
                          "" if jdate is None else jdate.isoformat(), stack])
    buf.seek(0)
    with db.transaction() as cur:
        cur.execute('DELETE FROM etms e USING unnest(%s::varchar[], %s::varchar[]) AS u(net, stn) WHERE '
                    'e."NetworkCode" = u.net AND e."StationCode" = u.stn AND e.soln = %s AND e.stack = %s',
                    ([n for n, _, _, _ in items], [c for _, c, _, _ in items], soln, stack))
        cur.copy_expert('COPY etms ("NetworkCode", "StationCode", soln, object, t_ref, jump_type, relaxation, '
                        'frequencies, params, sigmas, metadata, hash, jump_date, stack) FROM STDIN WITH (FORMAT csv)',
                        buf)
        from .results import write_extras_many  # noise, MIDAS and detected offsets (migration 0008)

        write_extras_many(cur, soln, stack, [(network, code, fit) for network, code, fit, _ in items])


def load_fits(db, soln: str, stack: str, wanted: dict[tuple[str, str], int]) -> dict[tuple[str, str], EtmFit]:
    """The stored models of the stations in ``wanted`` ({(network, code): checksum}) whose checksum matches, in
    one query."""
    if not wanted:
        return {}
    keys = list(wanted)
    rows = db.query('SELECT e."NetworkCode" AS net, e."StationCode" AS stn, e.metadata, e.hash FROM etms e JOIN '
                    'unnest(%s::varchar[], %s::varchar[]) AS u(net, stn) ON e."NetworkCode" = u.net AND '
                    'e."StationCode" = u.stn WHERE e.soln = %s AND e.stack = %s AND e.object = %s',
                    ([n for n, _ in keys], [c for _, c in keys], soln, stack, "var_factor"))
    return {(r["net"], r["stn"]): codec.loads(r["metadata"]) for r in rows
            if _hash_matches(r, wanted[(r["net"], r["stn"])])}
