-- The original bot's rows may spell decision_type 'Reply', 'THREAD' or
-- ' single': xloop writes 'single', 'thread', 'reply' (DESIGN §2) and reads
-- them exactly, so such replies were learned from as posts, left out of
-- learn-replies (every account's priority back to 0.5) and of plan's
-- cooldowns. They are spelled as xloop writes them, with a warning that
-- counts them. A column of an enum type of the bot's own is left as it is.
DO $$
DECLARE
    n bigint;
BEGIN
    IF (SELECT atttypid FROM pg_attribute
         WHERE attrelid = 'public.content_generation_metadata_comprehensive'::regclass
           AND attname = 'decision_type' AND NOT attisdropped)
       IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype) THEN
        UPDATE public.content_generation_metadata_comprehensive
           SET decision_type = lower(btrim(decision_type))
         WHERE decision_type <> lower(btrim(decision_type))
           AND lower(btrim(decision_type)) IN ('single', 'thread', 'reply');
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RAISE WARNING 'content_generation_metadata_comprehensive: decision_type of % spelled as xloop writes it (single, thread, reply)',
                n || CASE WHEN n = 1 THEN ' row' ELSE ' rows' END;
        END IF;
    END IF;
END
$$;
