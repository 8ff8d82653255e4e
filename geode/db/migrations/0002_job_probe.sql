-- geode.jobs.record writes here: a tiny table that lets tests and `geode worker selftest` prove a unit
-- delivered twice (worker killed, visibility timeout) is stored once. writes counts the deliveries.
CREATE TABLE IF NOT EXISTS geode_job_probe (
    key text PRIMARY KEY,
    value text,
    node text,
    writes integer NOT NULL DEFAULT 1,
    updated timestamptz NOT NULL DEFAULT now()
);
