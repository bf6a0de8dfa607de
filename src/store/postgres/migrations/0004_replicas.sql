-- What the Telegram front end keeps, and what lets several replicas share one database.

-- The inbox: every update Telegram delivered, saved before its offset is confirmed (polling)
-- or before Telegram is answered (webhook). The update is kept as JSON text, which can hold
-- any character a user sent (JSONB cannot hold U+0000). A handled update keeps its row, with
-- its text gone, for a day: a redelivery of the same id is recognised and dropped.
CREATE TABLE inbox (
    update_id    BIGINT PRIMARY KEY,
    chat_id      BIGINT,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    handled_at   TIMESTAMPTZ,
    doc          TEXT
);
CREATE INDEX inbox_unhandled ON inbox (chat_id, update_id) WHERE handled_at IS NULL;
CREATE INDEX inbox_handled ON inbox (handled_at) WHERE handled_at IS NOT NULL;

-- The highest update id ever saved: the poller's offset, whoever polls.
CREATE TABLE inbox_seen (
    one   BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
    seen  BIGINT NOT NULL
);

-- Messages Telegram accepted, written the moment it answers, so that whichever replica runs
-- the chat next never sends one twice.
CREATE TABLE sent (
    chat_id     BIGINT NOT NULL,
    key         TEXT NOT NULL,
    message_id  INTEGER,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, key)
);
CREATE INDEX sent_at ON sent (at);

-- The replicas that ever joined. A replica is alive while its session holds the advisory
-- lock (classid 0x41492d52, 'AI-R'; objid its id) on its own dedicated connection.
CREATE TABLE replicas (
    id         SERIAL PRIMARY KEY,
    host       TEXT NOT NULL,
    joined_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Which replica runs each chat. A claim whose replica is dead may be taken; every taking
-- raises the epoch, so a release (or a write) by an earlier holder matches nothing.
CREATE TABLE claims (
    chat_id     BIGINT PRIMARY KEY,
    replica     INTEGER NOT NULL,
    epoch       BIGINT NOT NULL,
    claimed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX claims_replica ON claims (replica);
