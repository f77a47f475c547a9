-- Issue #28 item 7: one kiosk's malformed payload must not break the county's figures. An entry whose payload
-- does not parse as its kind is still stored (the chain and its seals need every entry, and the entry is the
-- kiosk's sealed evidence), marked with the problem, raised as an alert, and left out of every figure; the
-- report lists what it left out. Rows stored before this migration are checked by `kiosk-county fleet
-- migrate` right after it (payload_checked false until then).
ALTER TABLE entries ADD COLUMN payload_problem text;
ALTER TABLE entries ADD COLUMN payload_checked boolean NOT NULL DEFAULT false;
CREATE INDEX entries_payload_problems ON entries (kiosk_id, seq) WHERE payload_problem IS NOT NULL;
CREATE INDEX entries_payload_unchecked ON entries (kiosk_id, seq) WHERE NOT payload_checked;

-- The views read only entries whose payload was checked and found right.
CREATE OR REPLACE VIEW entry_facts AS
SELECT e.kiosk_id, k.town, e.seq, e.kind, e.at,
       (e.at AT TIME ZONE 'Asia/Shanghai')::date AS local_day,
       e.payload::jsonb AS p
FROM entries e JOIN kiosks k USING (kiosk_id)
WHERE e.payload_checked AND e.payload_problem IS NULL;

-- Copies as bigint: a payload's `copies` is any u32, beyond PostgreSQL's int.
CREATE OR REPLACE VIEW licence_prints_per_day AS
SELECT kiosk_id, town, local_day AS day,
       count(*) FILTER (WHERE kind = 'licence_printed') AS prints,
       coalesce(sum((p->>'copies')::bigint) FILTER (WHERE kind = 'licence_printed'), 0)::bigint AS copies,
       count(*) FILTER (WHERE kind = 'licence_print_failed') AS failures
FROM entry_facts WHERE kind IN ('licence_printed', 'licence_print_failed')
GROUP BY 1, 2, 3;

-- What the figures leave out, for the report: the marked entries with their kiosk, time and problem.
CREATE VIEW entries_left_out AS
SELECT e.kiosk_id, k.town, e.seq, e.kind, e.at, (e.at AT TIME ZONE 'Asia/Shanghai')::date AS local_day,
       e.payload_problem AS problem
FROM entries e JOIN kiosks k USING (kiosk_id)
WHERE e.payload_problem IS NOT NULL;
