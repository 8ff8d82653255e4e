-- GeoDE's tables, with GeoDE's names and types, so an existing GeoDE database keeps working.
-- Every statement is safe on a database created from GeoDE's own dump: tables that exist are left as
-- they are (their constraints came with them), missing columns are added, missing indexes created.

CREATE TABLE IF NOT EXISTS networks (
    "NetworkCode" varchar NOT NULL PRIMARY KEY,
    "NetworkName" varchar,
    api_id serial UNIQUE
);

CREATE TABLE IF NOT EXISTS stations (
    "NetworkCode" varchar(3) NOT NULL REFERENCES networks ("NetworkCode") MATCH FULL ON UPDATE CASCADE ON DELETE RESTRICT,
    "StationCode" varchar(4) NOT NULL,
    "StationName" varchar(40),
    "DateStart" numeric(7,3),
    "DateEnd" numeric(7,3),
    auto_x numeric(16,5),
    auto_y numeric(16,5),
    auto_z numeric(16,5),
    "Harpos_coeff_otl" text,
    lat numeric(12,9),
    lon numeric(12,9),
    height numeric(10,5),
    max_dist numeric,
    dome varchar(9),
    country_code varchar(3),
    marker integer,
    alias varchar(4),
    api_id serial UNIQUE,
    plate varchar(2) DEFAULT NULL,
    PRIMARY KEY ("NetworkCode", "StationCode")
);
ALTER TABLE stations ADD COLUMN IF NOT EXISTS plate varchar(2) DEFAULT NULL;
CREATE INDEX IF NOT EXISTS stations_country_code_idx ON stations (country_code);

CREATE TABLE IF NOT EXISTS receivers (
    "ReceiverCode" varchar(22) NOT NULL PRIMARY KEY,
    "ReceiverDescription" varchar(256),
    api_id serial UNIQUE
);

CREATE TABLE IF NOT EXISTS antennas (
    "AntennaCode" varchar(22) NOT NULL,
    "AntennaDescription" varchar,
    api_id serial UNIQUE,
    "RadomeCode" varchar(7) NOT NULL,
    PRIMARY KEY ("AntennaCode", "RadomeCode")
);

CREATE TABLE IF NOT EXISTS stationinfo (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    "ReceiverCode" varchar(22) NOT NULL REFERENCES receivers ("ReceiverCode") ON UPDATE CASCADE ON DELETE RESTRICT,
    "ReceiverSerial" varchar(22),
    "ReceiverFirmware" varchar(10),
    "AntennaCode" varchar(22) NOT NULL,
    "AntennaSerial" varchar(20),
    "AntennaHeight" numeric(6,4) DEFAULT 0 NOT NULL,
    "AntennaNorth" numeric(12,4) DEFAULT 0 NOT NULL,
    "AntennaEast" numeric(12,4) DEFAULT 0 NOT NULL,
    "HeightCode" varchar,
    "RadomeCode" varchar(7) NOT NULL,
    "DateStart" timestamp NOT NULL,
    "DateEnd" timestamp,
    "ReceiverVers" varchar(22),
    "Comments" text,
    api_id serial UNIQUE,
    "AntennaDAZ" numeric(4,1) DEFAULT 0.0 CHECK ("AntennaDAZ" >= 0.0 AND "AntennaDAZ" <= 360.0),
    PRIMARY KEY ("NetworkCode", "StationCode", "DateStart"),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode") ON UPDATE CASCADE ON DELETE RESTRICT,
    FOREIGN KEY ("AntennaCode", "RadomeCode") REFERENCES antennas ("AntennaCode", "RadomeCode") ON UPDATE CASCADE ON DELETE RESTRICT
);
ALTER TABLE stationinfo ADD COLUMN IF NOT EXISTS "AntennaDAZ" numeric(4,1) DEFAULT 0.0;

CREATE TABLE IF NOT EXISTS stationalias (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    "StationAlias" varchar(4) NOT NULL UNIQUE,
    api_id serial UNIQUE,
    PRIMARY KEY ("NetworkCode", "StationCode"),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode") ON UPDATE CASCADE ON DELETE RESTRICT
);

CREATE TABLE IF NOT EXISTS keys (
    "KeyCode" varchar(7) NOT NULL PRIMARY KEY,
    "TotalChars" integer,
    rinex_col_out varchar,
    rinex_col_in varchar(60),
    isnumeric bit(1),
    api_id serial UNIQUE
);

CREATE TABLE IF NOT EXISTS rinex_tank_struct (
    "Level" integer NOT NULL PRIMARY KEY,
    "KeyCode" varchar(7) REFERENCES keys ("KeyCode"),
    api_id serial UNIQUE
);

CREATE TABLE IF NOT EXISTS rinex (
    "NetworkCode" varchar NOT NULL,
    "StationCode" varchar NOT NULL,
    "ObservationYear" numeric NOT NULL,
    "ObservationMonth" numeric NOT NULL,
    "ObservationDay" numeric NOT NULL,
    "ObservationDOY" numeric NOT NULL,
    "ObservationFYear" numeric NOT NULL,
    "ObservationSTime" timestamp,
    "ObservationETime" timestamp,
    "ReceiverType" varchar(20),
    "ReceiverSerial" varchar(20),
    "ReceiverFw" varchar(20),
    "AntennaType" varchar(20),
    "AntennaSerial" varchar(20),
    "AntennaDome" varchar(20),
    "Filename" varchar(50),
    "Interval" numeric NOT NULL,
    "AntennaOffset" numeric,
    "Completion" numeric(7,3) NOT NULL,
    api_id serial UNIQUE,
    PRIMARY KEY ("NetworkCode", "StationCode", "ObservationYear", "ObservationDOY", "Interval", "Completion"),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode") ON UPDATE CASCADE ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "Filename" ON rinex ("Filename" varchar_ops);
CREATE INDEX IF NOT EXISTS network_station ON rinex ("NetworkCode" varchar_ops, "StationCode" varchar_ops);
CREATE INDEX IF NOT EXISTS rinex_obs_comp_idx ON rinex ("NetworkCode", "StationCode", "ObservationYear", "ObservationDOY", "Completion");
CREATE INDEX IF NOT EXISTS rinex_obs_idx ON rinex ("NetworkCode", "StationCode", "ObservationYear", "ObservationDOY");

-- per station-day: the file with the highest completion, then the smallest interval
CREATE OR REPLACE VIEW rinex_proc AS
SELECT "NetworkCode", "StationCode", "ObservationYear", "ObservationMonth", "ObservationDay", "ObservationDOY",
       "ObservationFYear", "ObservationSTime", "ObservationETime", "ReceiverType", "ReceiverSerial", "ReceiverFw",
       "AntennaType", "AntennaSerial", "AntennaDome", "Filename", "Interval", "AntennaOffset", "Completion", "mI"
FROM (SELECT aa.*, min(aa."Interval") OVER (PARTITION BY aa."NetworkCode", aa."StationCode",
                                            aa."ObservationYear", aa."ObservationDOY") AS "mI"
      FROM rinex aa
      LEFT JOIN rinex bb ON aa."NetworkCode" = bb."NetworkCode" AND aa."StationCode" = bb."StationCode"
                        AND aa."ObservationYear" = bb."ObservationYear" AND aa."ObservationDOY" = bb."ObservationDOY"
                        AND aa."Completion" < bb."Completion"
      WHERE bb."NetworkCode" IS NULL) rnx
WHERE "Interval" = "mI";

CREATE TABLE IF NOT EXISTS locks (
    filename text NOT NULL PRIMARY KEY,
    "NetworkCode" varchar(3),
    "StationCode" varchar(4),
    api_id serial UNIQUE,
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode") ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS apr_coords (
    "NetworkCode" varchar NOT NULL,
    "StationCode" varchar NOT NULL,
    "FYear" numeric,
    x numeric,
    y numeric,
    z numeric,
    sn numeric,
    se numeric,
    su numeric,
    "ReferenceFrame" varchar(20),
    "Year" integer NOT NULL,
    "DOY" integer NOT NULL,
    api_id serial UNIQUE,
    PRIMARY KEY ("NetworkCode", "StationCode", "Year", "DOY"),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode") ON UPDATE CASCADE ON DELETE RESTRICT
);

CREATE TABLE IF NOT EXISTS ppp_soln (
    "NetworkCode" varchar NOT NULL,
    "StationCode" varchar NOT NULL,
    "X" numeric(12,4),
    "Y" numeric(12,4),
    "Z" numeric(12,4),
    "Year" numeric NOT NULL,
    "DOY" numeric NOT NULL,
    "ReferenceFrame" varchar(20) NOT NULL,
    sigmax numeric,
    sigmay numeric,
    sigmaz numeric,
    sigmaxy numeric,
    sigmaxz numeric,
    sigmayz numeric,
    hash bigint,
    api_id serial UNIQUE,
    orbit varchar(100) DEFAULT '',
    PRIMARY KEY ("NetworkCode", "StationCode", "Year", "DOY", "ReferenceFrame"),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode") ON UPDATE CASCADE ON DELETE RESTRICT
);
ALTER TABLE ppp_soln ADD COLUMN IF NOT EXISTS orbit varchar(100) DEFAULT '';

CREATE TABLE IF NOT EXISTS ppp_soln_excl (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    "Year" numeric NOT NULL,
    "DOY" numeric NOT NULL,
    api_id serial UNIQUE,
    PRIMARY KEY ("NetworkCode", "StationCode", "Year", "DOY"),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode") ON UPDATE CASCADE ON DELETE RESTRICT
);

CREATE TABLE IF NOT EXISTS gamit_soln (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    "Project" varchar(20) NOT NULL,
    "Year" numeric NOT NULL,
    "DOY" numeric NOT NULL,
    "FYear" numeric,
    "X" numeric,
    "Y" numeric,
    "Z" numeric,
    sigmax numeric,
    sigmay numeric,
    sigmaz numeric,
    "VarianceFactor" numeric,
    sigmaxy numeric,
    sigmayz numeric,
    sigmaxz numeric,
    api_id serial UNIQUE,
    PRIMARY KEY ("NetworkCode", "StationCode", "Project", "Year", "DOY"),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode") ON UPDATE CASCADE ON DELETE RESTRICT
);

CREATE TABLE IF NOT EXISTS gamit_soln_excl (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    "Project" varchar(20) NOT NULL,
    "Year" bigint NOT NULL,
    "DOY" bigint NOT NULL,
    residual numeric,
    api_id serial UNIQUE,
    PRIMARY KEY ("NetworkCode", "StationCode", "Project", "Year", "DOY"),
    FOREIGN KEY ("NetworkCode", "StationCode", "Project", "Year", "DOY")
        REFERENCES gamit_soln ("NetworkCode", "StationCode", "Project", "Year", "DOY") ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS gamit_stats (
    "Project" varchar(20) NOT NULL,
    subnet numeric NOT NULL,
    "Year" numeric NOT NULL,
    "DOY" numeric NOT NULL,
    "FYear" numeric,
    wl numeric,
    nl numeric,
    nrms numeric,
    relaxed_constrains text,
    max_overconstrained varchar(8),
    updated_apr text,
    iterations numeric,
    node varchar(50),
    execution_time numeric,
    execution_date timestamp,
    system char(1) NOT NULL,
    api_id serial UNIQUE,
    PRIMARY KEY ("Project", subnet, "Year", "DOY", system)
);

CREATE TABLE IF NOT EXISTS gamit_subnets (
    "Project" varchar(20) NOT NULL,
    subnet numeric NOT NULL,
    "Year" numeric NOT NULL,
    "DOY" numeric NOT NULL,
    centroid numeric[],
    stations varchar[],
    alias varchar[],
    ties varchar[],
    api_id serial UNIQUE,
    PRIMARY KEY ("Project", subnet, "Year", "DOY")
);

CREATE TABLE IF NOT EXISTS gamit_ztd (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    "Date" timestamp NOT NULL,
    "Project" varchar(20) NOT NULL,
    "Year" numeric NOT NULL,
    "DOY" numeric NOT NULL,
    "ZTD" numeric NOT NULL,
    model numeric,
    sigma numeric,
    api_id serial UNIQUE,
    PRIMARY KEY ("NetworkCode", "StationCode", "Date", "Project", "Year", "DOY"),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode")
);
CREATE INDEX IF NOT EXISTS gamit_ztd_idx ON gamit_ztd ("Project", "Year", "DOY");

CREATE TABLE IF NOT EXISTS gamit_htc (
    "AntennaCode" varchar(22) NOT NULL,
    "HeightCode" varchar(5) NOT NULL,
    v_offset numeric,
    h_offset numeric,
    api_id serial UNIQUE,
    PRIMARY KEY ("AntennaCode", "HeightCode")
);

CREATE TABLE IF NOT EXISTS stacks (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    "Project" varchar(20) NOT NULL,
    "Year" numeric NOT NULL,
    "DOY" numeric NOT NULL,
    "FYear" numeric,
    "X" numeric,
    "Y" numeric,
    "Z" numeric,
    sigmax numeric,
    sigmay numeric,
    sigmaz numeric,
    "VarianceFactor" numeric,
    sigmaxy numeric,
    sigmayz numeric,
    sigmaxz numeric,
    name varchar(20) NOT NULL,
    api_id serial UNIQUE,
    PRIMARY KEY ("NetworkCode", "StationCode", "Year", "DOY", name),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode") ON UPDATE CASCADE ON DELETE RESTRICT,
    FOREIGN KEY ("Year", "DOY", "StationCode", "Project", "NetworkCode")
        REFERENCES gamit_soln ("Year", "DOY", "StationCode", "Project", "NetworkCode") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS stacks_idx ON stacks ("Year", "DOY");

CREATE SEQUENCE IF NOT EXISTS etmsv2_uid_seq;
CREATE TABLE IF NOT EXISTS etms (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    soln varchar(10) NOT NULL,
    object varchar(10) NOT NULL,
    t_ref numeric,
    jump_type numeric,
    relaxation numeric[],
    frequencies numeric[],
    params numeric[],
    sigmas numeric[],
    metadata text,
    hash numeric,
    jump_date timestamp,
    uid integer DEFAULT nextval('etmsv2_uid_seq') NOT NULL PRIMARY KEY,
    stack varchar(20),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode") ON UPDATE CASCADE ON DELETE RESTRICT
);

CREATE SEQUENCE IF NOT EXISTS etm_params_uid_seq;
CREATE TABLE IF NOT EXISTS etm_params (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    soln varchar(10) NOT NULL,
    object varchar(10) NOT NULL,
    terms numeric,
    frequencies numeric[],
    jump_type numeric,
    relaxation numeric[],
    "Year" numeric,
    "DOY" numeric,
    action varchar(1),
    uid integer DEFAULT nextval('etm_params_uid_seq') NOT NULL PRIMARY KEY,
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode")
);
CREATE INDEX IF NOT EXISTS etm_params_idx ON etm_params ("NetworkCode", "StationCode", soln, object);

CREATE SEQUENCE IF NOT EXISTS events_event_id_seq;
CREATE TABLE IF NOT EXISTS events (
    event_id bigint DEFAULT nextval('events_event_id_seq') NOT NULL,
    "EventDate" timestamp DEFAULT timezone('UTC', CURRENT_TIMESTAMP) NOT NULL,
    "EventType" varchar(6),
    "NetworkCode" varchar(3),
    "StationCode" varchar(4),
    "Year" integer,
    "DOY" integer,
    "Description" text,
    stack text,
    module text,
    node text,
    PRIMARY KEY (event_id, "EventDate")
);
CREATE INDEX IF NOT EXISTS events_index ON events ("NetworkCode", "StationCode", "Year", "DOY");

CREATE TABLE IF NOT EXISTS earthquakes (
    date timestamp NOT NULL,
    lat numeric NOT NULL,
    lon numeric NOT NULL,
    depth numeric,
    mag numeric,
    strike1 numeric,
    dip1 numeric,
    rake1 numeric,
    strike2 numeric,
    dip2 numeric,
    rake2 numeric,
    id varchar(40),
    location varchar(120),
    api_id serial UNIQUE,
    density integer,
    c_kml text,
    cp_kml text,
    PRIMARY KEY (date, lat, lon)
);
CREATE UNIQUE INDEX IF NOT EXISTS earthquake_id_key ON earthquakes (id);

CREATE TABLE IF NOT EXISTS sources_formats (
    format varchar NOT NULL PRIMARY KEY,
    api_id serial UNIQUE
);

CREATE TABLE IF NOT EXISTS sources_metadata (
    id serial PRIMARY KEY,
    protocol varchar NOT NULL CHECK (upper(protocol) IN ('FTP', 'HTTP', 'SFTP', 'HTTPS', 'FTPA')),
    fqdn varchar NOT NULL,
    username varchar,
    password varchar,
    path varchar,
    format varchar DEFAULT 'DEFAULT_FORMAT' REFERENCES sources_formats (format)
);

CREATE TABLE IF NOT EXISTS sources_servers (
    server_id serial PRIMARY KEY,
    protocol varchar NOT NULL CHECK (upper(protocol) IN ('FTP', 'HTTP', 'SFTP', 'HTTPS', 'FTPA')),
    fqdn varchar NOT NULL,
    username varchar,
    password varchar,
    path varchar,
    format varchar DEFAULT 'DEFAULT_FORMAT' NOT NULL REFERENCES sources_formats (format),
    metadata_source_id integer REFERENCES sources_metadata (id)
);

CREATE TABLE IF NOT EXISTS sources_stations (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    try_order smallint DEFAULT 1 NOT NULL,
    server_id integer NOT NULL REFERENCES sources_servers (server_id),
    path varchar,
    format varchar REFERENCES sources_formats (format),
    api_id serial UNIQUE,
    metadata_hash bigint,
    PRIMARY KEY ("NetworkCode", "StationCode", try_order),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode")
);

CREATE TABLE IF NOT EXISTS executions (
    id serial NOT NULL,
    script varchar(40),
    exec_date timestamp DEFAULT now(),
    api_id serial UNIQUE
);

-- seeds: GeoDE's default archive layout network/year/doy and the default download format
INSERT INTO keys ("KeyCode", "TotalChars", rinex_col_out, rinex_col_in, isnumeric) VALUES
    ('day', 2, '"ObservationDay"', 'ObservationDay', B'1'),
    ('doy', 3, 'LPAD("ObservationDOY"::text,3,''0'')', 'ObservationDOY', B'1'),
    ('gpsweek', 4, NULL, NULL, B'1'),
    ('month', 2, '"ObservationMonth"', 'ObservationMonth', B'1'),
    ('network', 3, '"NetworkCode"', 'NetworkCode', B'0'),
    ('station', 4, '"StationCode"', 'StationCode', B'0'),
    ('year', 4, '"ObservationYear"', 'ObservationYear', B'1')
ON CONFLICT ("KeyCode") DO NOTHING;

INSERT INTO rinex_tank_struct ("Level", "KeyCode")
SELECT v.level, v.key FROM (VALUES (1, 'network'), (2, 'year'), (3, 'doy')) AS v(level, key)
WHERE NOT EXISTS (SELECT 1 FROM rinex_tank_struct);

INSERT INTO sources_formats (format) VALUES ('DEFAULT_FORMAT') ON CONFLICT (format) DO NOTHING;
