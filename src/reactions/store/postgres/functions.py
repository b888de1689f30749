"""The two functions every server writes through, in PostgreSQL itself: one round trip per
batch of taps or views (group commit), and each decided where all servers see the same state.

`apply_taps(taps, multiple)`: for each tap in order — its network's and reader's shared rate
limits (per minute, the previous minute weighted by what is left of it), then the article and
kind, then add / undo / switch against `current_reactions`, under a transaction lock per
reader and article taken up front in a fixed order (two servers' batches never deadlock; the
same reader tapping on two servers at once is decided one after the other, as a replay of
the log would). Answers, per tap, its outcome or why it was refused.

`apply_views(views)`: the same limits, then one view per reader, article and UTC day by the
table's unique key; answers whether each was counted, with the article's counts and the
reader's kinds (the view's answer is the reaction bar).

A tap is a JSON object: a (article), r (reader hash), k (kind), s (source), n (network hash
or null), t (ISO time, UTC), lim ([[key, per minute], …]). A view has no k.
"""

from __future__ import annotations

_LIMITS = """
        -- The shared budget: refused with the seconds to wait, or counted.
        wait := 0;
        FOR lim IN SELECT * FROM jsonb_array_elements(item->'lim') LOOP
            SELECT coalesce(sum(CASE WHEN minute = now_minute THEN hits
                                     ELSE hits * (1 - into_minute) END), 0)
              INTO used FROM rate_hits
             WHERE key = lim->>0 AND minute IN (now_minute - 1, now_minute);
            IF used >= (lim->>1)::int THEN
                wait := greatest(wait, ceil(60 * (1 - into_minute))::int, 1);
            END IF;
        END LOOP;
        IF wait > 0 THEN
            answers := answers || jsonb_build_object('limited', wait);
            CONTINUE;
        END IF;
        FOR lim IN SELECT * FROM jsonb_array_elements(item->'lim') LOOP
            INSERT INTO rate_hits VALUES (lim->>0, now_minute, 1)
            ON CONFLICT (key, minute) DO UPDATE SET hits = rate_hits.hits + 1;
        END LOOP;
        IF NOT EXISTS (SELECT 1 FROM articles WHERE article_id = item->>'a') THEN
            answers := answers || jsonb_build_object('error', 'article');
            CONTINUE;
        END IF;
"""

_DECLARE = """
    item jsonb;
    lim jsonb;
    answers jsonb := '[]'::jsonb;
    wait integer;
    used double precision;
    now_minute bigint := floor(extract(epoch FROM clock_timestamp()) / 60);
    into_minute double precision :=
        (extract(epoch FROM clock_timestamp()) / 60) - floor(extract(epoch FROM clock_timestamp()) / 60);
"""

# Every lock a batch will need, taken up front in one global order: each reader's state on an
# article, each article's counts, each budget's counter. Two servers' batches touching the
# same rows then queue on the first lock they share instead of deadlocking on row locks.
_LOCKS = """
    PERFORM pg_advisory_xact_lock(hashtextextended(key, 0)) FROM (
        SELECT DISTINCT key FROM (
            SELECT 'reader:' || (t->>'r') || '/' || (t->>'a') AS key
              FROM jsonb_array_elements({items}) t
            UNION ALL SELECT 'article:' || (t->>'a') FROM jsonb_array_elements({items}) t
            UNION ALL SELECT 'budget:' || (l->>0)
              FROM jsonb_array_elements({items}) t, jsonb_array_elements(t->'lim') l
        ) wanted ORDER BY key
    ) keys;
"""

# The article's counts and the reader's kinds right after an item, inside its transaction
# and under its locks: what the reaction bar shows, with no second read.
_ARTICLE_COUNTS = """(SELECT coalesce(jsonb_object_agg(kind_id, reactions), '{}')
                         FROM article_counts WHERE article_id = item->>'a')"""
_READER_KINDS = """(SELECT coalesce(array_agg(kind_id ORDER BY event_id), '{}')
          FROM current_reactions WHERE reader_hash = item->>'r' AND article_id = item->>'a')"""

TAP_FUNCTION = f"""
CREATE OR REPLACE FUNCTION apply_taps(taps jsonb, multiple boolean) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    {_DECLARE}
    kind text;
    gone text;
    before text[];
    after text[];
    ids bigint[];
    new_id bigint;
    at timestamp;
BEGIN
    {_LOCKS.format(items="taps")}
    FOR item IN SELECT * FROM jsonb_array_elements(taps) LOOP
        {_LIMITS}
        kind := item->>'k';
        IF NOT EXISTS (SELECT 1 FROM reaction_kinds WHERE kind_id = kind AND enabled) THEN
            answers := answers || jsonb_build_object('error', 'kind');
            CONTINUE;
        END IF;
        at := (item->>'t')::timestamp;
        SELECT {_READER_KINDS} INTO before;
        ids := '{{}}';
        -- the same kind again: undo it; another without `multiple`: a switch (removes first)
        FOREACH gone IN ARRAY before LOOP
            CONTINUE WHEN gone <> kind AND (multiple OR kind = ANY(before));
            INSERT INTO reaction_events
                (occurred_at, article_id, reader_hash, kind_id, action, source, network_hash)
            VALUES (at, item->>'a', item->>'r', gone, 'remove', item->>'s', item->>'n')
            RETURNING event_id INTO new_id;
            ids := ids || new_id;
            DELETE FROM current_reactions
             WHERE reader_hash = item->>'r' AND article_id = item->>'a' AND kind_id = gone;
            UPDATE article_counts SET reactions = reactions - 1
             WHERE article_id = item->>'a' AND kind_id = gone;
        END LOOP;
        IF NOT kind = ANY(before) THEN
            INSERT INTO reaction_events
                (occurred_at, article_id, reader_hash, kind_id, action, source, network_hash)
            VALUES (at, item->>'a', item->>'r', kind, 'add', item->>'s', item->>'n')
            RETURNING event_id INTO new_id;
            ids := ids || new_id;
            INSERT INTO current_reactions VALUES (item->>'r', item->>'a', kind, new_id, at);
            INSERT INTO article_counts VALUES (item->>'a', kind, 1)
            ON CONFLICT (article_id, kind_id) DO UPDATE SET reactions = article_counts.reactions + 1;
        END IF;
        SELECT {_READER_KINDS} INTO after;
        answers := answers || jsonb_build_object(
            'before', to_jsonb(before), 'after', to_jsonb(after), 'ids', to_jsonb(ids),
            'counts', {_ARTICLE_COUNTS});
    END LOOP;
    RETURN answers;
END $$;
"""

VIEW_FUNCTION = f"""
CREATE OR REPLACE FUNCTION apply_views(views jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    {_DECLARE}
    inserted integer;
    at timestamp;
BEGIN
    {_LOCKS.format(items="views")}
    FOR item IN SELECT * FROM jsonb_array_elements(views) LOOP
        {_LIMITS}
        at := (item->>'t')::timestamp;
        INSERT INTO view_events
            (viewed_at, article_id, reader_hash, source, network_hash, viewed_on)
        VALUES (at, item->>'a', item->>'r', item->>'s', item->>'n', at::date)
        ON CONFLICT (reader_hash, article_id, viewed_on) DO NOTHING;
        GET DIAGNOSTICS inserted = ROW_COUNT;
        answers := answers || jsonb_build_object(
            'counted', inserted > 0, 'counts', {_ARTICLE_COUNTS},
            'mine', to_jsonb({_READER_KINDS}));
    END LOOP;
    RETURN answers;
END $$;
"""
