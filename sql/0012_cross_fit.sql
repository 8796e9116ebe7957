-- Two maps beside the active one, each learned from half of the window's
-- posts (which half: cross_fit_fold of posted_at): validate values each
-- half's posts under the map learned from the other, so the value it prints
-- is not flattered by the noise the map learned from its own posts.
-- [posteriors learned without half 0, posteriors learned without half 1].
ALTER TABLE public.learning_model_weights
    ADD COLUMN IF NOT EXISTS cross_fit jsonb;
