-- The figures county staff read (issue #18), as views over the entries. Times are shown in the hall's zone.

-- Payloads parsed once per row the views read.
CREATE VIEW entry_facts AS
SELECT e.kiosk_id, k.town, e.seq, e.kind, e.at,
       (e.at AT TIME ZONE 'Asia/Shanghai')::date AS local_day,
       e.payload::jsonb AS p
FROM entries e JOIN kiosks k USING (kiosk_id);

-- Tickets issued per kiosk, category and business day.
CREATE VIEW tickets_per_day AS
SELECT kiosk_id, town, p->>'category' AS category, (p->>'business_day')::date AS business_day, count(*) AS tickets
FROM entry_facts WHERE kind = 'ticket_issued' AND p IS NOT NULL
GROUP BY 1, 2, 3, 4;

-- Each called ticket's wait, from issue to its first call (a hash join, so it stays linear in the entries).
CREATE VIEW ticket_waits AS
WITH called AS (
    SELECT kiosk_id, p->>'ticket_id' AS ticket_id, min(at) AS called_at
    FROM entry_facts WHERE kind = 'ticket_called' AND p IS NOT NULL GROUP BY 1, 2
)
SELECT i.kiosk_id, i.town, i.p->>'ticket_id' AS ticket_id, i.p->>'category' AS category,
       (i.p->>'business_day')::date AS business_day, i.at AS issued_at, c.called_at,
       extract(epoch FROM c.called_at - i.at) / 60.0 AS wait_minutes
FROM entry_facts i JOIN called c ON c.kiosk_id = i.kiosk_id AND c.ticket_id = i.p->>'ticket_id'
WHERE i.kind = 'ticket_issued';

-- Ratings (GB/T 39734, 1 非常不满意 … 5 非常满意) per kiosk and day, and 好评率: levels 4 and 5 over all.
CREATE VIEW ratings_per_day AS
SELECT kiosk_id, town, local_day AS day, count(*) AS ratings,
       count(*) FILTER (WHERE (p->>'level')::int >= 4) AS good,
       round(count(*) FILTER (WHERE (p->>'level')::int >= 4)::numeric / count(*), 4) AS good_rate
FROM entry_facts WHERE kind = 'evaluation' AND p IS NOT NULL
GROUP BY 1, 2, 3;

-- Licence prints per kiosk and day (copies printed, and failures).
CREATE VIEW licence_prints_per_day AS
SELECT kiosk_id, town, local_day AS day,
       count(*) FILTER (WHERE kind = 'licence_printed') AS prints,
       coalesce(sum((p->>'copies')::int) FILTER (WHERE kind = 'licence_printed'), 0) AS copies,
       count(*) FILTER (WHERE kind = 'licence_print_failed') AS failures
FROM entry_facts WHERE kind IN ('licence_printed', 'licence_print_failed')
GROUP BY 1, 2, 3;

-- Each device fault and how long it lasted: until the same device's next recovery on that kiosk
-- (recovered_at NULL: not recovered as far as the county's copy goes).
CREATE VIEW device_faults AS
SELECT f.kiosk_id, f.town, f.p->>'device' AS device, f.p->>'severity' AS severity,
       coalesce(f.p->>'fault', f.p->>'message', '') AS fault, f.at AS fault_at, r.recovered_at,
       extract(epoch FROM r.recovered_at - f.at) / 60.0 AS minutes
FROM entry_facts f
LEFT JOIN LATERAL (
    SELECT min(r.at) AS recovered_at FROM entry_facts r
    WHERE r.kiosk_id = f.kiosk_id AND r.kind = 'device_recovered' AND r.p->>'device' = f.p->>'device' AND r.seq > f.seq
) r ON true
WHERE f.kind = 'device_fault';

-- When each kiosk was last heard from (a pull it answered) and its newest entry.
CREATE VIEW kiosk_contact AS
SELECT k.kiosk_id, k.town, k.last_heard_at, k.head_seq,
       (SELECT max(at) FROM entries e WHERE e.kiosk_id = k.kiosk_id) AS newest_entry_at,
       extract(epoch FROM now() - k.last_heard_at) / 3600.0 AS hours_silent,
       k.broken_at IS NOT NULL AS broken, k.broken_reason, k.last_error
FROM kiosks k;

-- Kiosks not heard from in `hours` hours (never heard from counts).
CREATE FUNCTION kiosks_not_heard_from(hours numeric)
RETURNS SETOF kiosk_contact LANGUAGE sql STABLE AS $$
    SELECT * FROM kiosk_contact
    WHERE last_heard_at IS NULL OR last_heard_at < now() - make_interval(secs => hours * 3600)
    ORDER BY last_heard_at NULLS FIRST, kiosk_id
$$;
