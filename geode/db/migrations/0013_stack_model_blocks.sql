-- geode stack on Celery workers: each fit unit's models of a step as ONE binary value (geode.stack.packing:
-- the models' numbers as little-endian arrays, their few other fields as one JSON document), instead of one
-- JSON row per model in stack_work_models (which earlier versions fill). Unlogged scratch state, like the other
-- stack_work_* tables: deleted when the run ends.
CREATE UNLOGGED TABLE IF NOT EXISTS stack_work_model_blocks (
    run varchar(32) NOT NULL,
    step integer NOT NULL,
    seq bigserial,                    -- write order: a later block's model of a station replaces an earlier one
    lo integer NOT NULL,              -- the block's stations are in [lo, hi) (indices into the run's stations)
    hi integer NOT NULL,
    models bytea NOT NULL,
    PRIMARY KEY (run, step, seq)
);
-- floats do not compress: stored as they are, no compression attempt
ALTER TABLE stack_work_model_blocks ALTER COLUMN models SET STORAGE EXTERNAL;
