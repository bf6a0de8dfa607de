//! The studies in PostgreSQL (`migrations/0002_studies.sql`), behind [`StudyRecords`].
//!
//! A study is changed in one transaction that reads it `FOR UPDATE`: the desk, the command
//! line and every replica wait for each other on the row, where the files have only a lock
//! within one process.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::PgStore;
use crate::{
    model::{NewStudy, Stage, Study, StudyError, StudyId},
    store::{Invite, StoreError, StudyRecords, StudyStoreError},
};

/// The settings row that keeps the bot's username.
pub(super) const BOT_USERNAME: &str = "bot_username";

fn encode(study: &Study) -> Result<String, StoreError> {
    serde_json::to_string(study).map_err(|source| StoreError::Encode {
        what: "study",
        source,
    })
}

/// A study read back, or none (with a warning) if it no longer decodes, as a file that cannot
/// be read is left out.
fn decode(text: &str) -> Option<Study> {
    serde_json::from_str(text)
        .inspect_err(|e| {
            tracing::warn!(error = %e, "study row cannot be read: left out");
        })
        .ok()
}

async fn read(
    client: &impl GenericClient,
    id: &StudyId,
    lock: &str,
) -> Result<Option<Study>, StoreError> {
    let row = client
        .query_opt(
            &format!("SELECT doc::text FROM studies WHERE id = $1 {lock}"),
            &[&id.as_str()],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let text: String = row.try_get(0)?;
    Ok(decode(&text))
}

impl PgStore {
    /// Reads study `id`, applies `change` and writes it back, in one transaction.
    async fn update_study<T: Send>(
        &self,
        id: &StudyId,
        change: impl FnOnce(&mut Study) -> Result<T, StudyError> + Send,
    ) -> Result<(Study, T), StudyStoreError> {
        let mut client = self.pool.get().await.map_err(StoreError::from)?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let mut study = read(&tx, id, "FOR UPDATE")
            .await?
            .ok_or_else(|| StudyStoreError::Unknown(id.clone()))?;
        let value = change(&mut study)?;
        tx.execute(
            "UPDATE studies SET closed_at = $2, doc = $3::text::jsonb WHERE id = $1",
            &[&id.as_str(), &study.closed_at, &encode(&study)?],
        )
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok((study, value))
    }
}

#[async_trait]
impl StudyRecords for PgStore {
    async fn create(&self, draft: NewStudy, now: DateTime<Utc>) -> Result<Study, StudyStoreError> {
        let study = Study::new(draft, now)?;
        let client = self.pool.get().await.map_err(StoreError::from)?;
        client
            .execute(
                "INSERT INTO studies (id, invite, created_at, closed_at, doc) \
                 VALUES ($1, $2, $3, $4, $5::text::jsonb)",
                &[
                    &study.id.as_str(),
                    &study.invite.as_str(),
                    &study.created_at,
                    &study.closed_at,
                    &encode(&study)?,
                ],
            )
            .await
            .map_err(StoreError::from)?;
        tracing::info!(study = %study.id, "study created");
        Ok(study)
    }

    async fn get(&self, id: &StudyId) -> Result<Option<Study>, StoreError> {
        let client = self.pool.get().await?;
        read(&client, id, "").await
    }

    async fn list(&self) -> Result<Vec<Study>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT doc::text FROM studies", &[]).await?;
        let mut studies = Vec::with_capacity(rows.len());
        for row in rows {
            let text: String = row.try_get(0)?;
            studies.extend(decode(&text));
        }
        // Sorted as the file store sorts, by what the documents say.
        studies.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(studies)
    }

    async fn by_invite(&self, code: &str) -> Result<Invite, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT doc::text FROM studies WHERE invite = $1", &[&code])
            .await?;
        let study = match row {
            Some(row) => decode(&row.try_get::<_, String>(0)?),
            None => None,
        };
        Ok(match study {
            Some(study) if study.is_open() => Invite::Open(Box::new(study)),
            Some(_) => Invite::Closed,
            None => Invite::Unknown,
        })
    }

    async fn close(&self, id: &StudyId, now: DateTime<Utc>) -> Result<Study, StudyStoreError> {
        let (study, ()) = self
            .update_study(id, |study| {
                study.closed_at.get_or_insert(now);
                Ok(())
            })
            .await?;
        tracing::info!(study = %id, "study closed");
        Ok(study)
    }

    async fn add_questions(
        &self,
        id: &StudyId,
        stage: Stage,
        questions: &[String],
    ) -> Result<usize, StudyStoreError> {
        let (_, added) = self
            .update_study(id, |study| study.add_questions(stage, questions))
            .await?;
        tracing::info!(study = %id, %stage, added, "questions added to the study");
        Ok(added)
    }

    async fn save_synthesis(
        &self,
        id: &StudyId,
        json: Vec<u8>,
        markdown: &str,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO syntheses (study, data, markdown) VALUES ($1, $2, $3) \
                 ON CONFLICT (study) DO UPDATE SET data = EXCLUDED.data, \
                 markdown = EXCLUDED.markdown, saved_at = now()",
                &[&id.as_str(), &json, &markdown],
            )
            .await?;
        Ok(())
    }

    async fn synthesis_json(&self, id: &StudyId) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT data FROM syntheses WHERE study = $1",
                &[&id.as_str()],
            )
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    async fn synthesis_markdown(&self, id: &StudyId) -> Result<Option<String>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT markdown FROM syntheses WHERE study = $1",
                &[&id.as_str()],
            )
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    async fn remember_bot_username(&self, username: &str) -> Result<(), StoreError> {
        let username = username.trim_start_matches('@');
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO settings (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                &[&BOT_USERNAME, &username],
            )
            .await?;
        Ok(())
    }

    async fn bot_username(&self) -> Result<Option<String>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT value FROM settings WHERE name = $1",
                &[&BOT_USERNAME],
            )
            .await?;
        let value: Option<String> = row.map(|row| row.try_get(0)).transpose()?;
        Ok(value.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()))
    }
}
