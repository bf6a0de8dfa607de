//! The desk's sign-in links in PostgreSQL (`migrations/0003_signin_links.sql`), behind
//! [`SignInLinks`]: a row per link, keyed by the hash of its secret; `DELETE … RETURNING`
//! spends it, and of two openings at once only one gets the row back, on any replica.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::PgStore;
use crate::store::{
    StoreError,
    links::{Refused, SignInLinks, hash_hex, new_secret, well_formed},
};

#[async_trait]
impl SignInLinks for PgStore {
    async fn issue_until(&self, expires: DateTime<Utc>) -> Result<String, StoreError> {
        let token = new_secret();
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO signin_links (hash, expires_at) VALUES ($1, $2)",
                &[&hash_hex(&token), &expires],
            )
            .await?;
        Ok(token)
    }

    async fn redeem(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError> {
        if !well_formed(token) {
            return Ok(Err(Refused::Unknown));
        }
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "DELETE FROM signin_links WHERE hash = $1 RETURNING expires_at",
                &[&hash_hex(token)],
            )
            .await?;
        let Some(row) = row else {
            return Ok(Err(Refused::Unknown));
        };
        let expires: DateTime<Utc> = row.try_get(0)?;
        Ok(if now < expires {
            Ok(())
        } else {
            Err(Refused::Expired)
        })
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute("DELETE FROM signin_links WHERE expires_at <= $1", &[&now])
            .await?;
        Ok(())
    }
}
