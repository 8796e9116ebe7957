-- scrape-metrics rewrites the base table's actual_* columns and the outcome
-- rows as metrics arrive and attribution gains snapshots. None of those
-- columns is indexed, so with room left on each page PostgreSQL can update a
-- row in place (a HOT update: no new index entries) instead of writing it
-- again into every index: at 10⁵ posts a run, that was most of its time.
-- Applies to pages written from now on; existing pages gain room as they are
-- vacuumed or rewritten.
ALTER TABLE public.content_generation_metadata_comprehensive SET (fillfactor = 80);
ALTER TABLE public.outcomes SET (fillfactor = 80);
