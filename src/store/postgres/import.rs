//! `ai-interviewer import-files`: a `SESSIONS_DIR` moved into the database.
//!
//! Every item is written with `ON CONFLICT DO NOTHING` on its natural key (the user for an
//! interview in progress or a record, the folder, user and time in the file's name for a
//! retired interview and its report, the id for a study), so an import interrupted half-way
//! is simply run again: what is already there is counted and left as it is, never doubled,
//! and an interview the database has changed since is not overwritten by its older file.
//! Quarantined documents have no key of their own: the user, the folder they came from and
//! the time in their name stand for one. The files are only read; they stay where they are
//! until the operator removes them.
//!
//! The import announces nothing: it runs before the bot is started on the database.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use tokio_postgres::types::ToSql;

use super::{PgStore, encode_session, filed_at, key};
use crate::{
    model::{Study, StudyId, UserId},
    store::{Folder, StoreError, decode_session, io_error, retention::stamp_of},
};

/// Of one kind of item: how many the import wrote, and how many the database held already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Written by this import.
    pub imported: usize,
    /// Already in the database (an earlier import, or the bot since), left as they are.
    pub present: usize,
}

impl Count {
    fn add(&mut self, written: u64) {
        if written > 0 {
            self.imported += 1;
        } else {
            self.present += 1;
        }
    }
}

/// What an import found, kind by kind, and what it could not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// Interviews in progress (`<user>.json`).
    pub in_progress: Count,
    /// Finished interviews (`completed/`).
    pub completed: Count,
    /// Interviews set aside (`archive/`).
    pub archived: Count,
    /// Reports and other files beside retired interviews.
    pub attachments: Count,
    /// Unreadable documents (`quarantine/`).
    pub quarantined: Count,
    /// Chat records (`chats/`).
    pub chats: Count,
    /// Profiles (`profiles/`).
    pub profiles: Count,
    /// Studies (`studies/<id>.json`).
    pub studies: Count,
    /// Studies' latest syntheses.
    pub syntheses: Count,
    /// The bot's username (`studies/bot.txt`).
    pub bot_username: Count,
    /// Files left out, with why: they could not be read as what their name says.
    pub skipped: Vec<(PathBuf, String)>,
}

impl fmt::Display for Imported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds = [
            ("interviews in progress", self.in_progress),
            ("completed interviews", self.completed),
            ("archived interviews", self.archived),
            ("reports", self.attachments),
            ("quarantined documents", self.quarantined),
            ("chat records", self.chats),
            ("profiles", self.profiles),
            ("studies", self.studies),
            ("syntheses", self.syntheses),
            ("bot username", self.bot_username),
        ];
        for (what, count) in kinds {
            writeln!(
                f,
                "{what}: {} imported, {} already there",
                count.imported, count.present
            )?;
        }
        write!(f, "skipped: {}", self.skipped.len())?;
        for (path, why) in &self.skipped {
            write!(f, "\n  {}: {why}", path.display())?;
        }
        Ok(())
    }
}

/// The files of `dir`, by name, sorted; none if it does not exist.
async fn files_in(dir: &Path) -> Result<Vec<(String, PathBuf)>, StoreError> {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(dir)(e)),
    };
    let mut files = Vec::new();
    while let Some(entry) = entries.next_entry().await.map_err(io_error(dir))? {
        let path = entry.path();
        if path.is_file() {
            files.push((entry.file_name().to_string_lossy().into_owned(), path));
        }
    }
    files.sort();
    Ok(files)
}

/// The user a file is named after: `<user>.json`, or `<user>-<stamp>.<ext>`.
fn user_of(name: &str) -> Option<UserId> {
    let head = name.split(['-', '.']).next()?;
    head.parse().ok().map(UserId)
}

impl PgStore {
    /// Writes what `sessions_dir` holds into the database, leaving what is already there.
    pub async fn import_files(&self, sessions_dir: &Path) -> Result<Imported, StoreError> {
        let mut done = Imported::default();
        self.import_interviews(sessions_dir, &mut done).await?;
        for folder in [Folder::Completed, Folder::Archive] {
            self.import_retired(sessions_dir, folder, &mut done).await?;
        }
        self.import_quarantine(sessions_dir, &mut done).await?;
        for folder in [Folder::Chats, Folder::Profiles] {
            self.import_records(sessions_dir, folder, &mut done).await?;
        }
        self.import_studies(&sessions_dir.join("studies"), &mut done)
            .await?;
        Ok(done)
    }

    async fn write(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.execute(sql, params).await?)
    }

    async fn import_interviews(&self, root: &Path, done: &mut Imported) -> Result<(), StoreError> {
        for (name, path) in files_in(root).await? {
            let Some(user) = name.strip_suffix(".json").and_then(|s| s.parse().ok()) else {
                continue;
            };
            let bytes = tokio::fs::read(&path).await.map_err(io_error(&path))?;
            let session = match decode_session(&bytes) {
                Ok(session) if session.user == UserId(user) => session,
                Ok(session) => {
                    done.skipped
                        .push((path, format!("holds user {}", session.user)));
                    continue;
                }
                Err(why) => {
                    done.skipped.push((path, why));
                    continue;
                }
            };
            let study = session.study.as_ref().map(StudyId::as_str);
            let written = self
                .write(
                    "INSERT INTO interviews (user_id, session_id, study, started_at, doc) \
                     VALUES ($1, $2, $3, $4, $5::text::jsonb) ON CONFLICT (user_id) DO NOTHING",
                    &[
                        &key(session.user)?,
                        &i64::from(session.id),
                        &study,
                        &session.started_at,
                        &encode_session(&session)?,
                    ],
                )
                .await?;
            done.in_progress.add(written);
        }
        Ok(())
    }

    async fn import_retired(
        &self,
        root: &Path,
        folder: Folder,
        done: &mut Imported,
    ) -> Result<(), StoreError> {
        let name_of_folder = folder.name();
        for (name, path) in files_in(&root.join(name_of_folder)).await? {
            let (Some(user), Some(at)) = (user_of(&name), stamp_of(&name)) else {
                done.skipped
                    .push((path, "not named <user>-<time>".to_owned()));
                continue;
            };
            let at = filed_at(at);
            let Some((_, ext)) = name.rsplit_once('.') else {
                continue;
            };
            if ext != "json" {
                let text = match tokio::fs::read_to_string(&path).await {
                    Ok(text) => text,
                    Err(e) => {
                        done.skipped.push((path, e.to_string()));
                        continue;
                    }
                };
                let written = self
                    .write(
                        "INSERT INTO attachments (folder, user_id, filed_at, ext, body) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                        &[&name_of_folder, &key(user)?, &at, &ext, &text],
                    )
                    .await?;
                done.attachments.add(written);
                continue;
            }
            let bytes = tokio::fs::read(&path).await.map_err(io_error(&path))?;
            let session = match decode_session(&bytes) {
                Ok(session) if session.user == user => session,
                Ok(session) => {
                    done.skipped
                        .push((path, format!("holds user {}", session.user)));
                    continue;
                }
                Err(why) => {
                    done.skipped.push((path, why));
                    continue;
                }
            };
            let study = session.study.as_ref().map(StudyId::as_str);
            let written = self
                .write(
                    "INSERT INTO retired \
                     (folder, user_id, filed_at, session_id, study, started_at, doc) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb) ON CONFLICT DO NOTHING",
                    &[
                        &name_of_folder,
                        &key(user)?,
                        &at,
                        &i64::from(session.id),
                        &study,
                        &session.started_at,
                        &encode_session(&session)?,
                    ],
                )
                .await?;
            match folder {
                Folder::Completed => done.completed.add(written),
                _ => done.archived.add(written),
            }
        }
        Ok(())
    }

    async fn import_quarantine(&self, root: &Path, done: &mut Imported) -> Result<(), StoreError> {
        let dir = root.join(Folder::Quarantine.name());
        for (name, path) in files_in(&dir).await? {
            let (Some(user), Some(at)) = (user_of(&name), stamp_of(&name)) else {
                done.skipped
                    .push((path, "not named <user>-<time>".to_owned()));
                continue;
            };
            let bytes = tokio::fs::read(&path).await.map_err(io_error(&path))?;
            // Kept as text for whoever investigates; PostgreSQL's text holds no U+0000.
            let body = String::from_utf8_lossy(&bytes).replace('\0', "\u{FFFD}");
            let reason = format!("imported from quarantine/{name}");
            let written = self
                .write(
                    "INSERT INTO quarantine (user_id, origin, at, reason, body) \
                     SELECT $1, 'files', $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM quarantine \
                     WHERE user_id = $1 AND origin = 'files' AND at = $2)",
                    &[&key(user)?, &filed_at(at), &reason, &body],
                )
                .await?;
            done.quarantined.add(written);
        }
        Ok(())
    }

    async fn import_records(
        &self,
        root: &Path,
        folder: Folder,
        done: &mut Imported,
    ) -> Result<(), StoreError> {
        let kind = folder.name();
        for (name, path) in files_in(&root.join(kind)).await? {
            let Some(user) = name.strip_suffix(".json").and_then(|s| s.parse().ok()) else {
                continue;
            };
            let bytes = tokio::fs::read(&path).await.map_err(io_error(&path))?;
            let value = match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(value) => value,
                Err(e) => {
                    done.skipped.push((path, e.to_string()));
                    continue;
                }
            };
            let doc = value.to_string();
            let written = self
                .write(
                    "INSERT INTO records (kind, user_id, doc) VALUES ($1, $2, $3::text::jsonb) \
                     ON CONFLICT (kind, user_id) DO NOTHING",
                    &[&kind, &key(UserId(user))?, &doc],
                )
                .await?;
            match folder {
                Folder::Chats => done.chats.add(written),
                _ => done.profiles.add(written),
            }
        }
        Ok(())
    }

    async fn import_studies(&self, dir: &Path, done: &mut Imported) -> Result<(), StoreError> {
        for (name, path) in files_in(dir).await? {
            if name == "bot.txt" {
                let username = tokio::fs::read_to_string(&path)
                    .await
                    .map_err(io_error(&path))?;
                let written = self
                    .write(
                        "INSERT INTO settings (name, value) VALUES ($1, $2) \
                         ON CONFLICT (name) DO NOTHING",
                        &[&super::studies::BOT_USERNAME, &username.trim()],
                    )
                    .await?;
                done.bot_username.add(written);
            } else if let Some(id) = name.strip_suffix(".synthesis.json") {
                let markdown_path = dir.join(format!("{id}.synthesis.md"));
                let data = tokio::fs::read(&path).await.map_err(io_error(&path))?;
                let markdown = match tokio::fs::read_to_string(&markdown_path).await {
                    Ok(markdown) => markdown,
                    Err(e) => {
                        done.skipped.push((markdown_path, e.to_string()));
                        continue;
                    }
                };
                let written = self
                    .write(
                        "INSERT INTO syntheses (study, data, markdown) VALUES ($1, $2, $3) \
                         ON CONFLICT (study) DO NOTHING",
                        &[&id, &data, &markdown],
                    )
                    .await?;
                done.syntheses.add(written);
            } else if name.ends_with(".json") && !name.contains(".synthesis.") {
                let bytes = tokio::fs::read(&path).await.map_err(io_error(&path))?;
                let study = match serde_json::from_slice::<Study>(&bytes) {
                    Ok(study) => study,
                    Err(e) => {
                        done.skipped.push((path, e.to_string()));
                        continue;
                    }
                };
                let doc = serde_json::to_string(&study).map_err(|source| StoreError::Encode {
                    what: "study",
                    source,
                })?;
                let written = self
                    .write(
                        "INSERT INTO studies (id, invite, created_at, closed_at, doc) \
                         VALUES ($1, $2, $3, $4, $5::text::jsonb) ON CONFLICT DO NOTHING",
                        &[
                            &study.id.as_str(),
                            &study.invite.as_str(),
                            &study.created_at,
                            &study.closed_at,
                            &doc,
                        ],
                    )
                    .await?;
                done.studies.add(written);
            }
        }
        Ok(())
    }
}
