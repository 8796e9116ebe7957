-- Who is running a job that spans several transactions (scrape-metrics: one
-- per batch), and until when. A lease row, not a session advisory lock: a
-- session lock taken through a transaction-mode pooler (PgBouncer, Supabase
-- 6543) stays on whichever server connection ran it and blocks every later
-- run; a lease works through any pooler, and a killed run's lease ends by
-- itself at expires_at. The run renews it in each transaction it commits.
CREATE TABLE IF NOT EXISTS xloop.job_leases (
    job         text PRIMARY KEY,
    holder      text NOT NULL,        -- a random token of the run holding it
    client      text NOT NULL,        -- program, host and pid, for the skip message
    acquired_at timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
