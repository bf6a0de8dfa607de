-- The operators' counters (what metrics.json holds for one process): a row per process that
-- counted, keyed by a number it drew at start. Every replica writes its own row only, and the
-- deployment's counts are the sum of the rows, so replicas never overwrite each other and a
-- replica's counts outlive it.
CREATE TABLE counters (
    origin    BIGINT PRIMARY KEY,
    saved_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    ledger    TEXT NOT NULL
);
