-- The interviews and the per-user records: what SESSIONS_DIR/<user>.json, completed/,
-- archive/, quarantine/, chats/ and profiles/ hold as files. Each row keeps the whole
-- document as JSONB (the application reads and writes it whole, as it does a file) plus the
-- columns that are queried, so that no query has to look inside the documents.

-- The interview in progress of each user.
CREATE TABLE interviews (
    user_id     BIGINT PRIMARY KEY,
    session_id  BIGINT NOT NULL,
    study       TEXT,
    started_at  TIMESTAMPTZ NOT NULL,
    saved_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    doc         JSONB NOT NULL
);
CREATE INDEX interviews_study ON interviews (study) WHERE study IS NOT NULL;

-- Finished interviews (folder 'completed') and interviews set aside ('archive'), keyed as
-- their files are named: by user and the time they are filed under.
CREATE TABLE retired (
    folder      TEXT NOT NULL CHECK (folder IN ('completed', 'archive')),
    user_id     BIGINT NOT NULL,
    filed_at    TIMESTAMPTZ NOT NULL,
    session_id  BIGINT NOT NULL,
    study       TEXT,
    started_at  TIMESTAMPTZ NOT NULL,
    doc         JSONB NOT NULL,
    PRIMARY KEY (folder, user_id, filed_at)
);
CREATE INDEX retired_study ON retired (study) WHERE study IS NOT NULL;

-- What is filed beside a retired interview (the report as Markdown, 'md'). No foreign key:
-- the report of a finished interview may be written before or after the interview is filed,
-- as the files are.
CREATE TABLE attachments (
    folder      TEXT NOT NULL,
    user_id     BIGINT NOT NULL,
    filed_at    TIMESTAMPTZ NOT NULL,
    ext         TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (folder, user_id, filed_at, ext)
);

-- Documents that could not be read, kept as text for whoever investigates, with why.
CREATE TABLE quarantine (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL,
    origin      TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    reason      TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX quarantine_user ON quarantine (user_id, at);

-- Small per-user records: the chat's dialogue state ('chats') and preferences ('profiles').
CREATE TABLE records (
    kind        TEXT NOT NULL CHECK (kind IN ('chats', 'profiles')),
    user_id     BIGINT NOT NULL,
    saved_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    doc         JSONB NOT NULL,
    PRIMARY KEY (kind, user_id)
);
