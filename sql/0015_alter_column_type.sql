-- ALTER TABLE … ALTER COLUMN … TYPE for an adopted table's column that views
-- read, which PostgreSQL refuses while any view does (content_metadata reads
-- every column of the base table): e.g. a varchar(n) too narrow for what plan
-- writes. The views reading the column, and every view reading those, are
-- dropped, the column changed, and the views made again as they were
-- (definitions, options, owners, comments, grants and what view_extras
-- saves), all in the caller's transaction; an object that cannot be made
-- again (view_blockers) is named and nothing is changed. For operators:
--   SELECT xloop.alter_column_type('public.content_generation_metadata_comprehensive',
--                                  'hook_type', 'text');
-- Returns what it did, in one line.
CREATE OR REPLACE FUNCTION xloop.alter_column_type(p_table regclass, p_column text,
                                                   p_type text, p_using text DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    v_attnum smallint;
    v_before text;
    v_after text;
    v_blockers text;
    v_kind text;
    v_statement text;
    saved jsonb;
    item jsonb;
BEGIN
    SELECT attnum, format_type(atttypid, atttypmod) INTO v_attnum, v_before
      FROM pg_attribute
     WHERE attrelid = p_table AND attname = p_column AND attnum > 0 AND NOT attisdropped;
    IF v_attnum IS NULL THEN
        RAISE EXCEPTION '% has no column %', p_table, p_column
              USING ERRCODE = 'undefined_column';
    END IF;

    -- The views reading the column, then those reading them, deepest last.
    WITH RECURSIVE deps(oid, depth) AS (
        SELECT r.ev_class, 1
          FROM pg_depend dp
          JOIN pg_rewrite r ON r.oid = dp.objid
         WHERE dp.classid = 'pg_rewrite'::regclass
           AND dp.refclassid = 'pg_class'::regclass
           AND dp.refobjid = p_table AND dp.refobjsubid = v_attnum
           AND r.ev_class <> p_table
        UNION ALL
        SELECT r.ev_class, deps.depth + 1
          FROM deps
          JOIN pg_depend dp ON dp.refobjid = deps.oid
                           AND dp.classid = 'pg_rewrite'::regclass
                           AND dp.refclassid = 'pg_class'::regclass
          JOIN pg_rewrite r ON r.oid = dp.objid
         WHERE r.ev_class <> deps.oid
    ), views AS (
        SELECT c.oid, max(deps.depth) AS depth,
               format('%I.%I', n.nspname, c.relname) AS qname,
               CASE WHEN c.relkind = 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END AS kind,
               rtrim(pg_get_viewdef(c.oid), E'; \n') AS def,
               c.relacl::text[] AS acl,
               c.relowner::regrole::text AS owner,
               c.reloptions AS options,
               obj_description(c.oid, 'pg_class') AS comment,
               c.relispopulated AS populated,
               xloop.view_extras(c.oid) AS extras
          FROM deps
          JOIN pg_class c ON c.oid = deps.oid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         GROUP BY c.oid, n.nspname, c.relname, c.relkind, c.relacl, c.relowner, c.reloptions,
                  c.relispopulated)
    SELECT coalesce(jsonb_agg(to_jsonb(v) ORDER BY v.depth, v.oid), '[]') INTO saved
      FROM views v;

    v_blockers := xloop.view_blockers(ARRAY(
        SELECT (e->>'oid')::oid FROM jsonb_array_elements(saved) e));
    IF v_blockers IS NOT NULL THEN
        RAISE EXCEPTION 'changing %.% drops the views that read it, and with them %, '
                        'which xloop cannot make again: save their definitions, drop '
                        'them, call this again, then create them again',
                        p_table, p_column, v_blockers
              USING ERRCODE = 'dependent_objects_still_exist';
    END IF;

    FOR item IN SELECT * FROM jsonb_array_elements(saved) ORDER BY (value->>'depth')::int DESC
    LOOP
        EXECUTE format('DROP %s IF EXISTS %s CASCADE', item->>'kind', item->>'qname');
    END LOOP;
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE %s%s', p_table, p_column, p_type,
                   CASE WHEN p_using IS NULL THEN '' ELSE ' USING ' || p_using END);

    FOR item IN SELECT * FROM jsonb_array_elements(saved)
    LOOP
        v_kind := item->>'kind';
        EXECUTE format('CREATE %s %s%s AS %s%s', v_kind, item->>'qname',
                       CASE WHEN jsonb_typeof(item->'options') = 'array'
                            THEN format(' WITH (%s)', (SELECT string_agg(o, ', ')
                                   FROM jsonb_array_elements_text(item->'options') o))
                            ELSE '' END,
                       item->>'def',
                       CASE WHEN (item->>'populated')::boolean THEN '' ELSE ' WITH NO DATA' END);
        IF item->>'owner' <> current_user THEN
            EXECUTE format('ALTER %s %s OWNER TO %s', v_kind, item->>'qname', item->>'owner');
        END IF;
        IF jsonb_typeof(item->'acl') = 'array' THEN
            PERFORM xloop.restore_grants(item->>'qname', ARRAY(
                SELECT a::aclitem FROM jsonb_array_elements_text(item->'acl') a));
        END IF;
        IF item->>'comment' IS NOT NULL THEN
            EXECUTE format('COMMENT ON %s %s IS %L', v_kind, item->>'qname', item->>'comment');
        END IF;
        FOR v_statement IN SELECT jsonb_array_elements_text(item->'extras')
        LOOP
            EXECUTE v_statement;
        END LOOP;
    END LOOP;

    SELECT format_type(atttypid, atttypmod) INTO v_after
      FROM pg_attribute WHERE attrelid = p_table AND attnum = v_attnum;
    RETURN format('%s.%s: %s → %s%s', p_table, p_column, v_before, v_after,
                  CASE WHEN jsonb_array_length(saved) = 0 THEN ''
                       ELSE '; made again: ' || (SELECT string_agg(e->>'qname', ', ')
                                                   FROM jsonb_array_elements(saved) e) END);
END
$fn$;
