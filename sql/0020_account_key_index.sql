-- plan looks each candidate author's priority up by the account key
-- learn-replies writes by (lower case, no blanks around, no leading '@'), so
-- the original bot's ' Amy' and '@amy' are amy's row: one equality probe of
-- this index per author. The username never changes on learn-replies'
-- updates, so they stay HOT (0013).
CREATE INDEX IF NOT EXISTS discovered_accounts_account_key_idx
    ON public.discovered_accounts (lower(ltrim(btrim(username), '@')));
