-- DI calibration of a shootout (dBu at 0 dBFS; NULL for shootouts stored before the column
-- existed: they read as the default, +12 dBu) and each chain's input level mode
-- (gts.v1.InputLevelMode: 0 unspecified = auto, 1 auto, 2 rms).
ALTER TABLE shootout.shootouts
    ADD COLUMN di_calibration_dbu double precision
        CHECK (di_calibration_dbu BETWEEN -10 AND 30);
ALTER TABLE shootout.signal_chains
    ADD COLUMN input_level_mode smallint NOT NULL DEFAULT 0
        CHECK (input_level_mode BETWEEN 0 AND 2);
