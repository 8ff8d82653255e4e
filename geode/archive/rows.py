"""``rinex`` rows from what the reader measured, and their idempotent upsert.

One archive file is one row, found by (network, station, Filename): scanning an unchanged file writes
nothing, a changed file updates its row in place (and drops its now stale ``rinex_qc`` row).
"""

from __future__ import annotations

from ..dates import fyear_of_datetime
from ..rinex.names import RinexName
from ..rinex.reader import RinexInfo

COLUMNS = ("NetworkCode", "StationCode", "ObservationYear", "ObservationMonth", "ObservationDay", "ObservationDOY",
           "ObservationFYear", "ObservationSTime", "ObservationETime", "ReceiverType", "ReceiverSerial",
           "ReceiverFw", "AntennaType", "AntennaSerial", "AntennaDome", "Filename", "Interval", "AntennaOffset",
           "Completion")
QC_KEY = ("NetworkCode", "StationCode", "ObservationYear", "ObservationDOY", "Interval", "Completion")  # = rinex's


def rinex_row(network: str, name: RinexName, info: RinexInfo) -> dict:
    mid = info.mid_session
    h = info.header
    return {
        "NetworkCode": network, "StationCode": name.station, "ObservationYear": mid.year,
        "ObservationMonth": mid.month, "ObservationDay": mid.day, "ObservationDOY": mid.timetuple().tm_yday,
        "ObservationFYear": round(fyear_of_datetime(mid), 6), "ObservationSTime": info.first_epoch,
        "ObservationETime": info.last_epoch, "ReceiverType": h.receiver_type[:20],
        "ReceiverSerial": h.receiver_serial[:20], "ReceiverFw": h.receiver_firmware[:20],
        "AntennaType": h.antenna_type[:20], "AntennaSerial": h.antenna_serial[:20],
        "AntennaDome": h.antenna_radome[:20], "Filename": name.rinex_name, "Interval": info.interval,
        "AntennaOffset": h.antenna_height, "Completion": info.completion,
    }


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) < 1e-6
        except (TypeError, ValueError):
            return False
    return a == b


def upsert_rinex(cur, row: dict) -> str:
    """'inserted', 'updated' or 'unchanged'; caller holds the transaction (and the station's lock)."""
    cur.execute('SELECT * FROM rinex WHERE "NetworkCode" = %s AND "StationCode" = %s AND "Filename" = %s',
                (row["NetworkCode"], row["StationCode"], row["Filename"]))
    old = cur.fetchone()
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    if old is None:
        cur.execute(f"INSERT INTO rinex ({cols}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                    [row[c] for c in COLUMNS])
        return "inserted"
    if all(_same(old[c], row[c]) for c in COLUMNS):
        return "unchanged"
    # the file changed: its quality metrics (rinex_qc, keyed like this row) describe the old one
    cur.execute('DELETE FROM rinex_qc WHERE ("NetworkCode", "StationCode", "ObservationYear", "ObservationDOY", '
                '"Interval", "Completion") = (%s, %s, %s, %s, %s, %s)',
                [old[c] for c in QC_KEY])
    sets = ", ".join(f'"{c}" = %s' for c in COLUMNS)
    cur.execute(f'UPDATE rinex SET {sets} WHERE api_id = %s', [row[c] for c in COLUMNS] + [old["api_id"]])
    return "updated"


def store_warnings(cur, row: dict, warnings: dict[str, str], status: str) -> None:
    """Keep a file's header warnings (name → message) with its row in ``rinex_warnings``.

    One statement, and none at all for the common case (a new or unchanged row without warnings)."""
    if not warnings and status in ("inserted", "unchanged"):
        return
    codes, messages = list(warnings), [warnings[c] for c in warnings]
    cur.execute(
        'WITH r AS (SELECT api_id FROM rinex WHERE "NetworkCode" = %s AND "StationCode" = %s AND "Filename" = %s), '
        "gone AS (DELETE FROM rinex_warnings w USING r WHERE w.rinex_id = r.api_id AND NOT (w.code = ANY(%s))) "
        "INSERT INTO rinex_warnings (rinex_id, code, message) "
        "SELECT r.api_id, w.code, w.message FROM r, unnest(%s::text[], %s::text[]) AS w(code, message) "
        "ON CONFLICT (rinex_id, code) DO UPDATE SET message = EXCLUDED.message",
        (row["NetworkCode"], row["StationCode"], row["Filename"], codes, codes, messages))


def lock_station(cur, network: str, station: str) -> None:
    """Serialise writers of one station's rinex rows (scans and ingests running at once)."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"rinex:{network}.{station}",))
