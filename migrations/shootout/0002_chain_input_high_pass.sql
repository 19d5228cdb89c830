-- The high-pass each chain applies to the DI before its first block (Hz; 0 = off). NULL
-- for chains stored before the column existed: they read as the default, 80 Hz.
ALTER TABLE shootout.signal_chains
    ADD COLUMN input_high_pass_hz double precision
        CHECK (input_high_pass_hz = 0 OR input_high_pass_hz BETWEEN 20 AND 500);
