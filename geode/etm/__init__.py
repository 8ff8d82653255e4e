"""Extended trajectory models: polynomial + jumps (with post-seismic relaxation) + periodic terms, fitted
robustly per north/east/up component.

    model.py    jumps, configuration and the design matrix (periodic gating, jump edge cases)
    fit.py      the robust fit of one station's NEU series, evaluation, velocities and WRMS
    sources.py  jump epochs from the database (earthquakes, station-info changes, user etm_params)
    store.py    etms/etm_params storage with a data checksum, so unchanged data reuse the stored model
"""

from .fit import EtmFit, fit_etm
from .model import EtmConfig, Jump

__all__ = ["EtmConfig", "EtmFit", "Jump", "fit_etm"]
