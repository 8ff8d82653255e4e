-- Run history: one row per geode command that dispatched units of work (inline or on Celery workers), one row
-- per unit. `geode runs list/show/resume/cancel` read it; a run whose coordinator stopped heartbeating shows as
-- lost. GeoDE's `executions` table also gets its row per run (written by the same code, for compatibility).
CREATE TABLE IF NOT EXISTS runs (
    id bigserial PRIMARY KEY,
    command text NOT NULL,                    -- the subcommand, e.g. 'scan archive'
    argv jsonb NOT NULL,                      -- the arguments after `geode`, replayed by `geode runs resume`
    cwd text NOT NULL,
    username text NOT NULL DEFAULT '',
    host text NOT NULL DEFAULT '',
    pid integer,
    geode_version text NOT NULL DEFAULT '',
    mode text NOT NULL,                       -- inline | celery
    state text NOT NULL DEFAULT 'running'
        CHECK (state IN ('running', 'done', 'failed', 'interrupted', 'lost')),
    started timestamptz NOT NULL DEFAULT now(),
    heartbeat timestamptz NOT NULL DEFAULT now(),
    ended timestamptz,
    units_total integer NOT NULL DEFAULT 0,
    units_done integer NOT NULL DEFAULT 0,
    units_failed integer NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 1,      -- 1 + the times it was resumed
    exit_code integer,
    message text,
    cancel_requested boolean NOT NULL DEFAULT false,
    batches jsonb NOT NULL DEFAULT '[]'       -- broker-side ids of its Celery stages (cancel and resume use them)
);
CREATE INDEX IF NOT EXISTS runs_started_idx ON runs (started DESC);
CREATE INDEX IF NOT EXISTS runs_state_idx ON runs (state) WHERE state = 'running';

CREATE TABLE IF NOT EXISTS run_units (
    run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    task text NOT NULL,                       -- the registered task name, e.g. geode.archive.scan_files
    unit_key text NOT NULL,                   -- a hash of the unit's arguments: the same unit on resume
    label text NOT NULL DEFAULT '',           -- what a person calls it: a station-day, a file, a session
    state text NOT NULL CHECK (state IN ('queued', 'done', 'failed', 'cancelled')),
    attempts integer NOT NULL DEFAULT 0,
    node text,
    started timestamptz,
    ended timestamptz,
    error text,                               -- one line
    traceback text,
    result text,                              -- the unit's result in the dispatch codec (replayed on resume)
    PRIMARY KEY (run_id, task, unit_key)
);
