-- The studies: what SESSIONS_DIR/studies/ holds as files. A study is changed by reading it
-- FOR UPDATE, changing the document and writing it back in one transaction, which serialises
-- the desk, the command line and every replica.

CREATE TABLE studies (
    id          TEXT PRIMARY KEY,
    invite      TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    closed_at   TIMESTAMPTZ,
    doc         JSONB NOT NULL
);

-- The latest synthesis of a study: its data byte for byte (as the .synthesis.json file) and
-- its document.
CREATE TABLE syntheses (
    study       TEXT PRIMARY KEY,
    data        BYTEA NOT NULL,
    markdown    TEXT NOT NULL,
    saved_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Small named values of the whole deployment (the bot's username, for invite links).
CREATE TABLE settings (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);
