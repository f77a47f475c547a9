-- The county's copy of every kiosk's journal (issue #18). Applied by `kiosk fleet migrate` (refinery);
-- a migration once released is never edited: a change is a new V<n>__<what>.sql.

-- One row per kiosk the fleet file names: what it is, and where the county's copy of its chain ends.
CREATE TABLE kiosks (
    kiosk_id      text PRIMARY KEY,
    town          text NOT NULL DEFAULT '',
    url           text NOT NULL DEFAULT '',
    -- The root public key the county recorded at installation (64 hex digits).
    root_key      text NOT NULL,
    -- The key the kiosk's export header names (its journal's public key).
    public_key    text,
    -- The last entry stored, and its hash: the next page must continue from it.
    head_seq      bigint NOT NULL DEFAULT 0 CHECK (head_seq >= 0),
    head_hash     text NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    -- The newest signed checkpoint the kiosk sent (its JSON line), over an entry the county holds.
    checkpoint    text,
    last_pull_at  timestamptz,
    -- The last time the kiosk answered a pull.
    last_heard_at timestamptz,
    last_error    text,
    -- Set when the kiosk's chain or seals did not verify: its pull stops until staff look (kiosk fleet clear).
    broken_at     timestamptz,
    broken_seq    bigint,
    broken_reason text
);

-- Every entry exactly as the kiosk hashed it, so the chain verifies again after a round trip.
CREATE TABLE entries (
    kiosk_id       text   NOT NULL REFERENCES kiosks,
    seq            bigint NOT NULL CHECK (seq >= 1),
    boot_id        text   NOT NULL,
    time_utc       text   NOT NULL,
    mono_ms        bigint NOT NULL,
    session_id     text   NOT NULL,
    kind           text   NOT NULL,
    -- The payload's exact JSON text; NULL once the kiosk purged it after the retention period.
    payload        text,
    payload_digest text   NOT NULL,
    prev_hash      text   NOT NULL,
    hash           text   NOT NULL,
    -- time_utc as a time, for the views.
    at             timestamptz NOT NULL,
    PRIMARY KEY (kiosk_id, seq)
);
CREATE INDEX entries_kind_at ON entries (kind, at);

-- The chain of seals from each kiosk's root key, in epoch order.
CREATE TABLE seals (
    kiosk_id text   NOT NULL REFERENCES kiosks,
    epoch    bigint NOT NULL,
    seq      bigint NOT NULL,
    seal     text   NOT NULL,
    PRIMARY KEY (kiosk_id, epoch)
);

-- What went wrong, for staff to read (and for `kiosk fleet pull` to print as alerts).
CREATE TABLE alerts (
    id       bigserial PRIMARY KEY,
    kiosk_id text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    what     text NOT NULL
);

-- One queue per hall: the last number given out per hall, business day and category.
CREATE TABLE hall_counters (
    hall         text NOT NULL,
    business_day date NOT NULL,
    category     text NOT NULL,
    last_number  integer NOT NULL,
    PRIMARY KEY (hall, business_day, category)
);
