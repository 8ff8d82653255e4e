-- geode station: one row per station change (add, move, rename, merge, delete), written in the same
-- transaction as the change. files_pending lists the archive files still to remove from their old place
-- after the commit; a crash there leaves the row not done, and the next `geode station` command finishes it.
CREATE TABLE IF NOT EXISTS station_changes (
    id bigserial PRIMARY KEY,
    action varchar(8) NOT NULL CHECK (action IN ('add', 'move', 'rename', 'merge', 'delete')),
    source text,                 -- net.stn before the change (NULL for add)
    destination text,            -- net.stn after it (NULL for delete)
    rows jsonb NOT NULL DEFAULT '{}',  -- the source's rows per table when the change was made
    files_pending jsonb NOT NULL DEFAULT '[]',
    changed timestamptz NOT NULL DEFAULT now(),
    done timestamptz
);
CREATE INDEX IF NOT EXISTS station_changes_pending_idx ON station_changes (id) WHERE done IS NULL;
