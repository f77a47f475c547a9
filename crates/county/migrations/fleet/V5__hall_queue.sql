-- One queue per hall (issue #31): every printed ticket of the hall's kiosks, waiting and after it is called,
-- in the hall's order; the counters call from here. This is the hall's working state: each kiosk still
-- journals and signs its own tickets and the calls it answered, and the journals stay the evidence.
CREATE TABLE hall_tickets (
    hall         text        NOT NULL,
    ticket_id    text        NOT NULL,
    business_day date        NOT NULL,
    kiosk_id     text        NOT NULL,
    category     text        NOT NULL,
    number       integer     NOT NULL,
    display      text        NOT NULL,
    priority     boolean     NOT NULL,
    -- When the kiosk issued it, by its clock: the hall's order, so an offline-band ticket published late
    -- takes its place among the others.
    issued_at    timestamptz NOT NULL,
    numbering    text        NOT NULL CHECK (numbering IN ('hall', 'offline', 'kiosk')),
    -- Shown on screen instead of printed (the printer could not print): its verification code, which the
    -- counter that calls it reads back.
    shown_code   text,
    state        text        NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'called', 'completed', 'no_show')),
    -- A ticket transferred to one window waits for that counter only.
    for_counter  text,
    counter      text,
    called_at    timestamptz,
    PRIMARY KEY (hall, ticket_id)
);
CREATE INDEX hall_tickets_waiting ON hall_tickets (hall, business_day, category, priority DESC, issued_at, ticket_id)
    WHERE state = 'waiting';

-- Every call and recall, for the calling display (its id is the display's cursor).
CREATE TABLE hall_calls (
    id        bigserial   PRIMARY KEY,
    hall      text        NOT NULL,
    ticket_id text        NOT NULL,
    display   text        NOT NULL,
    category  text        NOT NULL,
    counter   text        NOT NULL,
    recall    boolean     NOT NULL DEFAULT false,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hall_calls_by_hall ON hall_calls (hall, id);
