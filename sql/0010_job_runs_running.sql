-- Each run's ledger row is written together with a check for abandoned rows
-- of its job ('running', but their backend is gone). An index of the running
-- rows alone keeps that check from reading every row the job ever wrote
-- (scrape-metrics writes 72 a day).
CREATE INDEX IF NOT EXISTS job_runs_running_idx ON xloop.job_runs (job)
    WHERE status = 'running';
