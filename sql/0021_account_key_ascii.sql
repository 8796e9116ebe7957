-- The account key lower-cases ASCII letters only (COLLATE "C"), as X reads
-- handles and as the tools' own code does: under a Turkish collation
-- lower('Ivan') is 'ıvan', no handle, so learn-replies left every reply to
-- such an account out. plan looks an author up by the key through an index
-- of the same expression: this one replaces 0020's.
DROP INDEX IF EXISTS public.discovered_accounts_account_key_idx;
CREATE INDEX IF NOT EXISTS discovered_accounts_handle_key_idx
    ON public.discovered_accounts (lower(ltrim(btrim(username), '@') COLLATE "C"));
