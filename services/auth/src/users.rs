//! The `users` table: one row per TONE3000 account that signed in.

use chrono::{DateTime, Utc};
use gts_proto::v1::User;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::AuthResult;

/// A user row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub tone3000_id: String,
    pub username: String,
    pub avatar_url: Option<String>,
    pub needs_reauth: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRow {
    pub fn into_proto(self) -> User {
        User {
            id: self.id.to_string(),
            tone3000_user_id: self.tone3000_id,
            username: self.username,
            avatar_url: self.avatar_url.unwrap_or_default(),
            needs_reauth: self.needs_reauth,
            created_at: Some(timestamp(self.created_at)),
            updated_at: Some(timestamp(self.updated_at)),
        }
    }
}

pub use gts_common::time::timestamp;

/// Creates or updates the user of a TONE3000 account; a fresh sign-in clears needs_reauth.
pub async fn upsert(
    conn: &mut PgConnection,
    tone3000_id: &str,
    username: &str,
    avatar_url: Option<&str>,
) -> AuthResult<UserRow> {
    let row = sqlx::query_as::<_, UserRow>(
        "INSERT INTO auth.users (id, tone3000_id, username, avatar_url)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tone3000_id) DO UPDATE
            SET username = EXCLUDED.username,
                avatar_url = EXCLUDED.avatar_url,
                needs_reauth = false,
                updated_at = now()
         RETURNING id, tone3000_id, username, avatar_url, needs_reauth, created_at, updated_at",
    )
    .bind(Uuid::now_v7())
    .bind(tone3000_id)
    .bind(username)
    .bind(avatar_url)
    .fetch_one(conn)
    .await?;
    Ok(row)
}

/// The user with `id`.
pub async fn get(db: &PgPool, id: Uuid) -> AuthResult<Option<UserRow>> {
    Ok(sqlx::query_as::<_, UserRow>(
        "SELECT id, tone3000_id, username, avatar_url, needs_reauth, created_at, updated_at
         FROM auth.users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?)
}
