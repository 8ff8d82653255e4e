"""The example network: a dozen real Argentine CORS sites (approximate public coordinates) with plausible
equipment histories, and the days the example covers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

EXAMPLE_NETWORKS = (("igs", "International GNSS Service"), ("arg", "Red Argentina de Monitoreo Satelital Continuo"))

# the example archive covers these days (year, doy): a short, complete week
EXAMPLE_DAYS = tuple((2024, doy) for doy in range(100, 105))


@dataclass(frozen=True)
class EquipmentRecord:
    receiver: str
    receiver_serial: str
    firmware: str
    antenna: str
    antenna_serial: str
    radome: str
    antenna_height: float
    start: dt.datetime
    end: dt.datetime | None


@dataclass(frozen=True)
class ExampleStation:
    network: str
    code: str
    name: str
    lat: float
    lon: float
    height: float
    country: str
    records: tuple[EquipmentRecord, ...]

    @property
    def current(self) -> EquipmentRecord:
        return self.records[-1]


def _one(receiver, rserial, fw, antenna, aserial, radome, height, changed=None, new_receiver=None):
    start = dt.datetime(2015, 1, 1)
    if changed is None:
        return (EquipmentRecord(receiver, rserial, fw, antenna, aserial, radome, height, start, None),)
    end = changed - dt.timedelta(seconds=1)
    nr, nserial, nfw = new_receiver
    return (EquipmentRecord(receiver, rserial, fw, antenna, aserial, radome, height, start, end),
            EquipmentRecord(nr, nserial, nfw, antenna, aserial, radome, height, changed, None))


# a receiver change inside the example week (lpgs, doy 102) exercises station-info lookups by date
_CHANGE = dt.datetime(2024, 4, 11)  # 2024 doy 102

EXAMPLE_STATIONS = (
    ExampleStation("igs", "lpgs", "La Plata", -34.906716, -57.932301, 29.88, "ARG",
                   _one("TRIMBLE NETR9", "5214K81234", "5.45", "TRM59800.00", "1440911111", "SCIS", 0.0,
                        _CHANGE, ("SEPT POLARX5", "3048123", "5.5.0"))),
    ExampleStation("igs", "unsa", "Salta", -24.727465, -65.407635, 1257.80, "ARG",
                   _one("SEPT POLARX5", "3048455", "5.5.0", "TRM57971.00", "1441022222", "NONE", 0.0)),
    ExampleStation("igs", "cord", "Cordoba", -31.528405, -64.470036, 746.97, "ARG",
                   _one("TRIMBLE NETR9", "5214K80001", "5.45", "TRM59800.00", "1440900001", "NONE", 0.0)),
    ExampleStation("igs", "rwsn", "Rawson", -43.299540, -65.104844, 36.34, "ARG",
                   _one("TRIMBLE NETR9", "5214K80002", "5.45", "TRM57971.00", "1440900002", "NONE", 0.0)),
    ExampleStation("arg", "vbca", "Bahia Blanca", -38.700839, -62.269416, 59.73, "ARG",
                   _one("TRIMBLE NETR8", "4917K61003", "4.85", "TRM55971.00", "1440900003", "NONE", 0.0)),
    ExampleStation("arg", "mzac", "Mendoza", -32.895352, -68.875626, 859.83, "ARG",
                   _one("LEICA GR30", "1870004", "4.31", "LEIAR20", "12000004", "LEIM", 0.0)),
    ExampleStation("arg", "tucu", "Tucuman", -26.843278, -65.230438, 485.29, "ARG",
                   _one("TRIMBLE NETR9", "5214K80005", "5.45", "TRM57971.00", "1440900005", "NONE", 0.0)),
    ExampleStation("arg", "rio2", "Rio Grande", -53.785536, -67.751119, 32.05, "ARG",
                   _one("TRIMBLE NETR9", "5214K80006", "5.45", "TRM59800.00", "1440900006", "SCIS", 0.0)),
    ExampleStation("arg", "igm1", "Buenos Aires IGN", -34.572218, -58.439393, 52.41, "ARG",
                   _one("LEICA GR50", "1870007", "4.31", "LEIAR25.R4", "12000007", "LEIT", 0.0)),
    ExampleStation("arg", "sl01", "San Luis", -33.294400, -66.342700, 738.00, "ARG",
                   _one("SEPT POLARX5", "3048008", "5.5.0", "SEPCHOKE_B3E6", "50008", "SPKE", 0.0)),
)
