-- Data quality of each archived RINEX file (teqc/Anubis-style metrics, geode.rinex.qc), one row per rinex row,
-- keyed like rinex itself. The row follows its file: a station move/rename/merge (ON UPDATE CASCADE, through
-- rinex) and a deleted rinex row (ON DELETE CASCADE); a rescanned file whose row changed has its QC row
-- removed by the scan (geode scan qc computes it again). qc_version is the metric set's version
-- (geode.rinex.qc.QC_VERSION): trends only compare rows of one version. The scalars trended per station are
-- columns; the whole QCResult is kept in metrics (QCResult.to_json()).
CREATE TABLE IF NOT EXISTS rinex_qc (
    "NetworkCode" varchar NOT NULL,
    "StationCode" varchar NOT NULL,
    "ObservationYear" numeric NOT NULL,
    "ObservationDOY" numeric NOT NULL,
    "Interval" numeric NOT NULL,
    "Completion" numeric(7,3) NOT NULL,
    qc_version integer NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    first_epoch timestamp,
    last_epoch timestamp,
    completeness double precision,      -- percent of the epochs expected over the day at the file's interval
    sats_mean double precision,         -- mean satellites tracked per epoch, all systems
    observations integer,               -- satellite-epochs with phase on two bands
    mp1 double precision,               -- GPS L1 code multipath RMS (m), teqc's MP1
    mp2 double precision,               -- GPS L2 code multipath RMS (m), teqc's MP2
    slips integer,
    obs_per_slip double precision,      -- teqc's o/slps; NULL when there was no slip
    slips_per_1000 double precision,
    sat_gaps integer,
    epoch_gaps integer,
    clock_jumps integer,
    snr1 double precision,              -- mean GPS L1 SNR (dB-Hz)
    snr2 double precision,              -- mean GPS L2 SNR (dB-Hz)
    elev_completeness double precision, -- percent above 10 deg; NULL without orbits
    metrics jsonb NOT NULL,
    PRIMARY KEY ("NetworkCode", "StationCode", "ObservationYear", "ObservationDOY", "Interval", "Completion"),
    FOREIGN KEY ("NetworkCode", "StationCode", "ObservationYear", "ObservationDOY", "Interval", "Completion")
        REFERENCES rinex ("NetworkCode", "StationCode", "ObservationYear", "ObservationDOY", "Interval", "Completion")
        ON UPDATE CASCADE ON DELETE CASCADE
);
-- the primary key's index serves the per-station, per-day reads of the trends
