-- Every page's own proof as the kiosk signed it (its header line, the checkpoint over its last entry and its
-- statement), kept so that `kiosk-county fleet export` writes a joined (version 4) file whose contiguity
-- the kiosk's signatures prove, not the county's say-so. Pages stored before this migration have none: an
-- export of such a kiosk says from which seq on its file is proven.
CREATE TABLE page_proofs (
    kiosk_id  TEXT   NOT NULL REFERENCES kiosks (kiosk_id),
    first_seq BIGINT NOT NULL CHECK (first_seq >= 1),
    last_seq  BIGINT NOT NULL CHECK (last_seq >= first_seq),
    proof     TEXT   NOT NULL,
    PRIMARY KEY (kiosk_id, first_seq)
);

-- Proofs are evidence, as entries are: never rewritten or deleted.
CREATE FUNCTION page_proofs_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'page proofs are evidence and are never changed or deleted';
END;
$$;
CREATE TRIGGER page_proofs_kept BEFORE UPDATE OR DELETE ON page_proofs
    FOR EACH ROW EXECUTE FUNCTION page_proofs_are_kept();
