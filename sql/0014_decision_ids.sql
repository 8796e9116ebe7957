-- scrape-metrics keys each post's outcome by its decision id as a uuid. The
-- original bot's decision_id may be text, and a text id need not be a uuid
-- ('legacy-42'): cast in the statement, one such row failed every post's
-- metrics. xloop.as_uuid gives the uuid, or NULL where the text is not one
-- (that post's outcome cannot be keyed; validate's posted_items names it).
-- PostgreSQL's own syntax for a uuid: 32 hex digits, a hyphen allowed after
-- any group of four, in braces or not. Both are inlined: on a uuid column
-- the call is the column itself, and its index still serves.
CREATE OR REPLACE FUNCTION xloop.as_uuid(id uuid) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT id $$;

CREATE OR REPLACE FUNCTION xloop.as_uuid(id text) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
SELECT CASE WHEN id ~* '^([0-9a-f]{4}(-?[0-9a-f]{4}){7}|\{[0-9a-f]{4}(-?[0-9a-f]{4}){7}\})$'
            THEN id::uuid END
$$;

-- A decision_id the original bot's table has without a default (0002 added
-- one only where it added the column): a writer that leaves it out wrote NULL,
-- and a post without one can never have an outcome. It gets one like
-- xloop's own table; a default of the operator's own is kept.
DO $$
DECLARE
    t regclass := 'public.content_generation_metadata_comprehensive';
    a pg_attribute;
BEGIN
    SELECT * INTO a FROM pg_attribute WHERE attrelid = t AND attname = 'decision_id';
    IF a.atthasdef THEN
        RETURN;
    END IF;
    IF a.atttypid = 'uuid'::regtype THEN
        ALTER TABLE public.content_generation_metadata_comprehensive
            ALTER COLUMN decision_id SET DEFAULT gen_random_uuid();
    ELSE
        ALTER TABLE public.content_generation_metadata_comprehensive
            ALTER COLUMN decision_id SET DEFAULT gen_random_uuid()::text;
    END IF;
    RAISE WARNING 'content_generation_metadata_comprehensive: decision_id had no default and now defaults to gen_random_uuid(): an item written without one gets one';
END
$$;
