-- geode stack / dra: the working state a run shares with its units (the coordinator and Celery workers).
-- A unit carries only keys (run, step, block); it reads the run's definition and its inputs from PostgreSQL and
-- writes what it produces here. Unlogged: this is scratch state, rebuilt by re-running; a server crash empties
-- it and the run fails and is run again. Rows are deleted when the run ends (and runs older than a day by the
-- next run, should a coordinator have died).
CREATE UNLOGGED TABLE IF NOT EXISTS stack_work_runs (
    run varchar(32) PRIMARY KEY,      -- random hex id of one run
    kind varchar(10) NOT NULL,        -- stack | refit | dra
    name varchar(20),                 -- the stack (stacks.name), when there is one
    definition text NOT NULL,         -- days, stations, station metadata, model configuration (geode codec JSON)
    created timestamptz NOT NULL DEFAULT now()
);

-- the run's input rows as the coordinator read them (day, station, x, y, z as little-endian arrays): every unit
-- works on this one snapshot, fetched whole in one COPY; stored uncompressed (floats do not compress)
CREATE UNLOGGED TABLE IF NOT EXISTS stack_work_snapshots (
    run varchar(32) PRIMARY KEY,
    rows bytea NOT NULL
);
ALTER TABLE stack_work_snapshots ALTER COLUMN rows SET STORAGE EXTERNAL;

-- per day and step, the Helmert transformations that align the day's input rows (applied in order)
CREATE UNLOGGED TABLE IF NOT EXISTS stack_work_transforms (
    run varchar(32) NOT NULL,
    step integer NOT NULL,
    day integer NOT NULL,             -- index into the run's days
    sizes integer[] NOT NULL,         -- parameters of each transformation (6 or 7)
    params float8[] NOT NULL,         -- all transformations' parameters, concatenated
    PRIMARY KEY (run, step, day)
);

-- per station and step, the trajectory model fitted to the station's aligned series
CREATE UNLOGGED TABLE IF NOT EXISTS stack_work_models (
    run varchar(32) NOT NULL,
    step integer NOT NULL,
    station integer NOT NULL,         -- index into the run's stations
    model text NOT NULL,              -- EtmFit, geode codec JSON
    hash bigint NOT NULL,             -- etms.hash of the series it was fitted to
    PRIMARY KEY (run, step, station)
);

-- what a unit found, per day or station (e.g. a day's Helmert parameters and statistics), for the coordinator
-- to read in one query: the broker carries counts only
CREATE UNLOGGED TABLE IF NOT EXISTS stack_work_results (
    run varchar(32) NOT NULL,
    step integer NOT NULL,
    kind varchar(10) NOT NULL,        -- align | dra
    key integer NOT NULL,             -- index into the run's days or stations
    result text NOT NULL,             -- JSON
    PRIMARY KEY (run, step, kind, key)
);

-- the final aligned rows, written by the units and moved into `stacks` by the coordinator in one transaction;
-- no index: it holds the rows of the runs under way only, and an index would triple the cost of writing them
CREATE UNLOGGED TABLE IF NOT EXISTS stack_work_rows (
    run varchar(32) NOT NULL,
    day integer NOT NULL,
    station integer NOT NULL,
    x float8 NOT NULL,
    y float8 NOT NULL,
    z float8 NOT NULL
);
