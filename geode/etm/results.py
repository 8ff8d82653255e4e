"""Rows of ``etm_noise`` and ``etm_offsets`` (migration 0008) for a fitted model: written by ``store.save_fit``
in the same transaction as the model's ``etms`` rows, so SQL users see noise amplitudes, MIDAS velocities and
proposed offsets without decoding the model."""

from __future__ import annotations

from ..dates import GnssDate


def _arr(values):
    return None if values is None else [float(v) for v in values]


def write_extras(cur, network: str, code: str, soln: str, stack: str | None, fit) -> None:
    key = (network, code, soln, stack or "")
    cur.execute('DELETE FROM etm_noise WHERE "NetworkCode" = %s AND "StationCode" = %s AND soln = %s AND stack = %s',
                key)
    cur.execute('DELETE FROM etm_offsets WHERE "NetworkCode" = %s AND "StationCode" = %s AND soln = %s AND '
                'stack = %s', key)
    cur.execute('INSERT INTO etm_noise ("NetworkCode", "StationCode", soln, stack, noise_model, white, powerlaw, '
                'spectral_index, velocity, velocity_sigma, midas_velocity, midas_sigma, midas_disagrees, notes) '
                'VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)',
                (*key, fit.noise_model, _arr(fit.noise_white), _arr(fit.noise_powerlaw), _arr(fit.noise_kappa),
                 _arr(fit.velocity), _arr(fit.velocity_sigma), _arr(fit.midas_velocity), _arr(fit.midas_sigma),
                 fit.midas_disagrees(), list(fit.notes)))
    for off in fit.detected:
        cur.execute('INSERT INTO etm_offsets ("NetworkCode", "StationCode", soln, stack, fyear, jump_date, size, '
                    'sigma, chi2, bic_cost, origin, description) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) '
                    'ON CONFLICT DO NOTHING',
                    (*key, off.fyear, GnssDate.from_fyear(off.fyear).datetime, _arr(off.size), _arr(off.sigma),
                     off.chi2, off.cost, off.origin, off.description))
