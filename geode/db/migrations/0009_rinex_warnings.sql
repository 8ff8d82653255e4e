-- Header values of a RINEX file that did not parse (an APPROX POSITION XYZ line shifted by a column, an
-- antenna delta that is not a number ...): the rinex row stores NULL or leaves them out, and the reason is
-- kept here, one row per named warning, with the file's row (deleted with it).
CREATE TABLE IF NOT EXISTS rinex_warnings (
    rinex_id integer NOT NULL REFERENCES rinex (api_id) ON DELETE CASCADE,
    code varchar(40) NOT NULL,
    message text NOT NULL,
    PRIMARY KEY (rinex_id, code)
);
