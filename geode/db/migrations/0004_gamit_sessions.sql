-- geode gamit: one row per GAMIT session (project, sub-network, day) with its state and a lease.
-- The lease lets a redelivered task (worker killed, broker visibility timeout) tell a dead owner from a live
-- one, so a second worker never deletes the directory of a session that is still running.
CREATE TABLE IF NOT EXISTS gamit_sessions (
    "Project" varchar(20) NOT NULL,
    subnet numeric NOT NULL,
    "Year" numeric NOT NULL,
    "DOY" numeric NOT NULL,
    state varchar(8) NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'running', 'done', 'failed')),
    directory text,
    lease_owner text,           -- host:pid of the process running the session
    lease_until timestamptz,    -- renewed while the session runs; a dead owner's lease runs out
    attempts integer NOT NULL DEFAULT 0,
    message text,
    log_tail text,
    updated timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("Project", subnet, "Year", "DOY")
);
CREATE INDEX IF NOT EXISTS gamit_sessions_state_idx ON gamit_sessions ("Project", "Year", "DOY", state);
