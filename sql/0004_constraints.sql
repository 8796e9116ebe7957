-- Uniqueness the loop relies on, converged on old data rather than failing on
-- it: duplicates are resolved where that loses nothing, reported otherwise.
-- The first text of this file, whose warnings said "1 older duplicate rows":
-- xloop:valid-checksum bbaed77415452cd4a014b79f860d28115ce5b1aebff5c3ca72c761caac5a7ae4
-- The text before a partitioned table's unique index was tried, not required:
-- xloop:valid-checksum 3845ff86903c65396ec4bd46685c77f2361b1d2146297aa9dc2edc93154f3c97

-- One outcome per decision: upserts need it. Older duplicate rows move to
-- xloop.outcomes_superseded (kept, not deleted); the newest stays.
DO $$
DECLARE
    moved bigint;
BEGIN
    IF xloop.has_unique_index('public.outcomes', 'decision_id') THEN
        RETURN;
    END IF;
    CREATE TABLE IF NOT EXISTS xloop.outcomes_superseded
        (LIKE public.outcomes INCLUDING DEFAULTS);
    WITH ranked AS (
        SELECT ctid AS row_ctid,
               row_number() OVER (PARTITION BY decision_id
                                  ORDER BY collected_at DESC NULLS LAST, ctid DESC) AS rn
          FROM public.outcomes
         WHERE decision_id IS NOT NULL
    ), gone AS (
        DELETE FROM public.outcomes o
         USING ranked r
         WHERE o.ctid = r.row_ctid AND r.rn > 1
        RETURNING o.*
    )
    INSERT INTO xloop.outcomes_superseded SELECT * FROM gone;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved > 0 THEN
        RAISE WARNING 'outcomes: % (same decision_id) moved to xloop.outcomes_superseded; the newest row of each decision stays',
            moved || CASE WHEN moved = 1 THEN ' older duplicate row' ELSE ' older duplicate rows' END;
    END IF;
    CREATE UNIQUE INDEX outcomes_decision_id_key ON public.outcomes (decision_id);
END
$$;

-- At most one active weight map. Old data with several: the newest stays active.
DO $$
DECLARE
    n bigint;
BEGIN
    UPDATE public.learning_model_weights
       SET is_active = false
     WHERE is_active
       AND id <> (SELECT id FROM public.learning_model_weights
                   WHERE is_active
                   ORDER BY computed_at DESC NULLS LAST, id DESC
                   LIMIT 1);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        RAISE WARNING 'learning_model_weights: % deactivated; the newest stays active',
            n || CASE WHEN n = 1 THEN ' older active map' ELSE ' older active maps' END;
    END IF;
END
$$;
CREATE UNIQUE INDEX IF NOT EXISTS learning_model_weights_one_active
    ON public.learning_model_weights ((true)) WHERE is_active;

-- Unique where the data allows; otherwise say which values collide, so an
-- operator can merge them (xloop-validate keeps reporting the missing index).
DO $$
DECLARE
    dups bigint;
    examples text;
BEGIN
    IF NOT xloop.has_unique_index('public.content_generation_metadata_comprehensive',
                                  'decision_id') THEN
        SELECT count(*), string_agg(decision_id::text, ', ') FILTER (WHERE rn <= 5)
          INTO dups, examples
          FROM (SELECT decision_id, row_number() OVER () AS rn
                  FROM public.content_generation_metadata_comprehensive
                 GROUP BY decision_id HAVING count(*) > 1) d;
        IF dups = 0 THEN
            BEGIN
                CREATE UNIQUE INDEX content_generation_metadata_comprehensive_decision_id_key
                    ON public.content_generation_metadata_comprehensive (decision_id);
            EXCEPTION WHEN feature_not_supported THEN
                -- partitioned by another column: the index would need it too
                RAISE WARNING 'content_generation_metadata_comprehensive: unique index content_generation_metadata_comprehensive_decision_id_key not created: %', SQLERRM;
            END;
        ELSE
            RAISE WARNING 'content_generation_metadata_comprehensive: % more than once (e.g. %); unique index not created',
                dups || CASE WHEN dups = 1 THEN ' decision_id value occurs' ELSE ' decision_id values occur' END, examples;
        END IF;
    END IF;

    IF NOT xloop.has_unique_index('public.discovered_accounts', 'lower(username)') THEN
        SELECT count(*), string_agg(u, ', ') FILTER (WHERE rn <= 5)
          INTO dups, examples
          FROM (SELECT lower(username) AS u, row_number() OVER (ORDER BY lower(username)) AS rn
                  FROM public.discovered_accounts
                 GROUP BY lower(username) HAVING count(*) > 1) d;
        IF dups = 0 THEN
            BEGIN
                CREATE UNIQUE INDEX discovered_accounts_username_lower_key
                    ON public.discovered_accounts (lower(username));
            EXCEPTION WHEN feature_not_supported THEN
                -- partitioned by another column: the index would need it too
                RAISE WARNING 'discovered_accounts: unique index discovered_accounts_username_lower_key not created: %', SQLERRM;
            END;
        ELSE
            RAISE WARNING 'discovered_accounts: % more than once ignoring case (e.g. %); unique index on lower(username) not created: merge the rows, then create discovered_accounts_username_lower_key',
                dups || CASE WHEN dups = 1 THEN ' username occurs' ELSE ' usernames occur' END, examples;
            CREATE INDEX IF NOT EXISTS discovered_accounts_username_lower_idx
                ON public.discovered_accounts (lower(username));
        END IF;
    END IF;

    IF NOT xloop.has_unique_index('public.reply_opportunities', 'tweet_id') THEN
        SELECT count(*), string_agg(tweet_id, ', ') FILTER (WHERE rn <= 5)
          INTO dups, examples
          FROM (SELECT tweet_id, row_number() OVER (ORDER BY tweet_id) AS rn
                  FROM public.reply_opportunities
                 GROUP BY tweet_id HAVING count(*) > 1) d;
        IF dups = 0 THEN
            BEGIN
                CREATE UNIQUE INDEX reply_opportunities_tweet_id_key
                    ON public.reply_opportunities (tweet_id);
            EXCEPTION WHEN feature_not_supported THEN
                -- partitioned by another column: the index would need it too
                RAISE WARNING 'reply_opportunities: unique index reply_opportunities_tweet_id_key not created: %', SQLERRM;
            END;
        ELSE
            RAISE WARNING 'reply_opportunities: % more than once (e.g. %); unique index not created',
                dups || CASE WHEN dups = 1 THEN ' tweet_id value occurs' ELSE ' tweet_id values occur' END, examples;
        END IF;
    END IF;
END
$$;
