-- The text before a partitioned table's partitions took the setting:
-- xloop:valid-checksum bcfa5bd17c7980f1415ea42915268e0a0ed35130bbfeb910b73e93d66c7cbec3
-- scrape-metrics rewrites the base table's actual_* columns and the outcome
-- rows as metrics arrive and attribution gains snapshots. None of those
-- columns is indexed, so with room left on each page PostgreSQL can update a
-- row in place (a HOT update: no new index entries) instead of writing it
-- again into every index: at 10⁵ posts a run, that was most of its time.
-- Applies to pages written from now on; existing pages gain room as they are
-- vacuumed or rewritten.
-- A partitioned table takes no storage parameters: its partitions do.
DO $$
DECLARE
    r record;
BEGIN
    -- a plain table has no partition tree: it is its own leaf
    FOR r IN SELECT coalesce(t.relid, p.rel)::regclass AS rel
               FROM unnest(ARRAY['public.content_generation_metadata_comprehensive',
                                 'public.outcomes']::regclass[]) p(rel)
               LEFT JOIN LATERAL pg_partition_tree(p.rel) t ON true
              WHERE t.relid IS NULL OR t.isleaf
    LOOP
        EXECUTE format('ALTER TABLE %s SET (fillfactor = 80)', r.rel);
    END LOOP;
END
$$;
