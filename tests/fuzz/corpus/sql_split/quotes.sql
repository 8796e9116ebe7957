SELECT 'a;b' AS "c;d"; -- x;
/* ; */ DO $$ BEGIN PERFORM 1; END $$;
SELECT E'\';
