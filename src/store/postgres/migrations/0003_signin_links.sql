-- The desk's one-time sign-in links: what SESSIONS_DIR/desk/links/ holds as files. Only the
-- SHA-256 of a link's secret is kept; a link is spent by deleting its row, which only one
-- caller can do.

CREATE TABLE signin_links (
    hash        TEXT PRIMARY KEY,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX signin_links_expiry ON signin_links (expires_at);
