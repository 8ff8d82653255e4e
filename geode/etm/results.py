"""Rows of ``etm_noise`` and ``etm_offsets`` (migration 0008) for a fitted model: written by ``store.save_fit``
in the same transaction as the model's ``etms`` rows, so SQL users see noise amplitudes, MIDAS velocities and
proposed offsets without decoding the model."""

from __future__ import annotations

from ..dates import GnssDate


def _arr(values):
    return None if values is None else [float(v) for v in values]


def write_extras(cur, network: str, code: str, soln: str, stack: str | None, fit) -> None:
    write_extras_many(cur, soln, stack, [(network, code, fit)])


def write_extras_many(cur, soln: str, stack: str | None, items: list[tuple[str, str, object]]) -> None:
    """The etm_noise and etm_offsets rows of many models ``(network, code, fit)`` of (soln, stack): one DELETE per
    table for all stations and one multi-row INSERT each, whatever their number."""
    from psycopg2.extras import execute_values

    if not items:
        return
    nets, codes = [n for n, _, _ in items], [c for _, c, _ in items]
    for table in ("etm_noise", "etm_offsets"):
        cur.execute(f'DELETE FROM {table} t USING unnest(%s::varchar[], %s::varchar[]) AS u(net, stn) WHERE '
                    't."NetworkCode" = u.net AND t."StationCode" = u.stn AND t.soln = %s AND t.stack = %s',
                    (nets, codes, soln, stack or ""))
    noise = [(network, code, soln, stack or "", fit.noise_model, _arr(fit.noise_white), _arr(fit.noise_powerlaw),
              _arr(fit.noise_kappa), _arr(fit.velocity), _arr(fit.velocity_sigma), _arr(fit.midas_velocity),
              _arr(fit.midas_sigma), fit.midas_disagrees(), list(fit.notes)) for network, code, fit in items]
    execute_values(cur, 'INSERT INTO etm_noise ("NetworkCode", "StationCode", soln, stack, noise_model, white, '
                   'powerlaw, spectral_index, velocity, velocity_sigma, midas_velocity, midas_sigma, midas_disagrees, '
                   'notes) VALUES %s', noise,
                   template="(%s,%s,%s,%s,%s,%s::numeric[],%s::numeric[],%s::numeric[],%s::numeric[],%s::numeric[],"
                            "%s::numeric[],%s::numeric[],%s,%s::text[])", page_size=2000)
    offsets = [(network, code, soln, stack or "", off.fyear, GnssDate.from_fyear(off.fyear).datetime, _arr(off.size),
                _arr(off.sigma), off.chi2, off.cost, off.origin, off.description)
               for network, code, fit in items for off in fit.detected]
    if offsets:
        execute_values(cur, 'INSERT INTO etm_offsets ("NetworkCode", "StationCode", soln, stack, fyear, jump_date, '
                       'size, sigma, chi2, bic_cost, origin, description) VALUES %s ON CONFLICT DO NOTHING', offsets,
                       template="(%s,%s,%s,%s,%s,%s,%s::numeric[],%s::numeric[],%s,%s,%s,%s)", page_size=2000)
