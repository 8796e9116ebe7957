-- learn-replies rewrites the priority columns of every account whose replies
-- changed, in one statement; none of them is indexed. With half of each page
-- free, every row of a page can be updated in place once (a HOT update: no
-- new entries in the primary key or the username index), and the next run
-- finds the old versions pruned. At 10⁵ accounts the first run's write was
-- a quarter of its time with full pages. Applies to pages written from now
-- on; existing pages gain room as they are rewritten (VACUUM FULL).
ALTER TABLE public.discovered_accounts SET (fillfactor = 50);
