-- Trajectory models a geodesist can publish (issue 12): per station model (soln, stack) its noise model and
-- amplitudes, the noise-aware velocity, the MIDAS velocity, and the offsets the automatic detection proposes.
-- GeoDE's etms rows are unchanged (the full model stays in the var_factor row's metadata); these tables are
-- written in the same transaction as the etms rows and replaced with them.
CREATE TABLE IF NOT EXISTS etm_noise (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    soln varchar(10) NOT NULL,
    stack varchar(20) NOT NULL DEFAULT '',
    noise_model varchar(20) NOT NULL,    -- white | white+flicker | powerlaw+white
    white numeric[],                     -- N, E, U white-noise amplitude, m
    powerlaw numeric[],                  -- N, E, U power-law amplitude, m/yr^(-kappa/4) (flicker: m/yr^0.25)
    spectral_index numeric[],            -- N, E, U kappa (-1 flicker)
    velocity numeric[],                  -- N, E, U m/yr (the model's, noise-aware)
    velocity_sigma numeric[],
    midas_velocity numeric[],            -- N, E, U m/yr (Blewitt et al. 2016); NULL: too few one-year pairs
    midas_sigma numeric[],
    midas_disagrees boolean,             -- |v - v_midas| > 3 x combined sigma in some component
    notes text[],                        -- jump hygiene notes
    PRIMARY KEY ("NetworkCode", "StationCode", soln, stack),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode")
        ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS etm_offsets (
    "NetworkCode" varchar(3) NOT NULL,
    "StationCode" varchar(4) NOT NULL,
    soln varchar(10) NOT NULL,
    stack varchar(20) NOT NULL DEFAULT '',
    fyear numeric NOT NULL,              -- last epoch before the offset
    jump_date timestamp NOT NULL,
    size numeric[],                      -- N, E, U m
    sigma numeric[],
    chi2 numeric,                        -- decrease of the GLS chi-square (N+E+U)
    bic_cost numeric,
    origin varchar(20),                  -- data | stationinfo | earthquake
    description text,
    PRIMARY KEY ("NetworkCode", "StationCode", soln, stack, fyear),
    FOREIGN KEY ("NetworkCode", "StationCode") REFERENCES stations ("NetworkCode", "StationCode")
        ON UPDATE CASCADE ON DELETE CASCADE
);
