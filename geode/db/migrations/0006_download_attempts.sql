-- geode download: one row per attempt to fetch a station-day from a source, so the summary and a re-run
-- know what happened. The url never holds credentials (they live in ~/.netrc or a netrc file named in the
-- configuration, never in this table).
CREATE TABLE IF NOT EXISTS download_attempts (
    id bigserial PRIMARY KEY,
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    "ObservationYear" integer NOT NULL,
    "ObservationDOY" integer NOT NULL,
    server_id integer,
    url text,
    outcome varchar(10) NOT NULL CHECK (outcome IN ('success', 'not_found', 'rejected', 'error')),
    reason text,
    bytes bigint,
    attempted timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS download_attempts_day_idx
    ON download_attempts ("NetworkCode", "StationCode", "ObservationYear", "ObservationDOY");

-- FTPS (explicit TLS) joins GeoDE's protocol list.
ALTER TABLE sources_servers DROP CONSTRAINT IF EXISTS sources_servers_protocol_check;
ALTER TABLE sources_servers ADD CONSTRAINT sources_servers_protocol_check
    CHECK (upper(protocol) IN ('FTP', 'FTPA', 'FTPS', 'SFTP', 'HTTP', 'HTTPS'));
