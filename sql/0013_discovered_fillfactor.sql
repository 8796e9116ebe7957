-- The text before a partitioned table's partitions took the setting:
-- xloop:valid-checksum 022944c489e85115fd1da3668f5ad4f71a22a376cb3ab49879f2525554a2ea6b
-- learn-replies rewrites the priority columns of every account whose replies
-- changed, in one statement; none of them is indexed. With half of each page
-- free, every row of a page can be updated in place once (a HOT update: no
-- new entries in the primary key or the username index), and the next run
-- finds the old versions pruned. At 10⁵ accounts the first run's write was
-- a quarter of its time with full pages. Applies to pages written from now
-- on; existing pages gain room as they are rewritten (VACUUM FULL).
-- A partitioned table takes no storage parameters: its partitions do.
DO $$
DECLARE
    r record;
BEGIN
    -- a plain table has no partition tree: it is its own leaf
    FOR r IN SELECT coalesce(t.relid, 'public.discovered_accounts'::regclass) AS rel
               FROM (SELECT) one
               LEFT JOIN pg_partition_tree('public.discovered_accounts') t ON true
              WHERE t.relid IS NULL OR t.isleaf
    LOOP
        EXECUTE format('ALTER TABLE %s SET (fillfactor = 50)', r.rel);
    END LOOP;
END
$$;
