//! Upload rows: creating, reading, locking and advancing them.
//!
//! Contract: every call that changes an upload first locks its row ([`lock`]), so the row is
//! the one truth about how many bytes arrived; someone else's upload reads as absent. A
//! stored number out of its contract range is a corrupt row (an error), never a zero.

use chrono::{DateTime, Utc};
use gts_common::stored::stored;
use gts_proto::v1::{Upload, UploadState};
use sqlx::PgConnection;
use uuid::Uuid;

use super::MAX_CHUNK_BYTES;
use crate::{assets::AssetKindName, convert::timestamp, error::ShootoutError};

/// The columns every upload read selects, in [`UploadRow`]'s shape (a macro, so queries
/// stay the literal strings sqlx requires).
macro_rules! columns {
    () => {
        "id, owner_id, kind, filename, size_bytes, sha256, bytes_received, state, asset_id, \
         created_at, expires_at"
    };
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRow {
    pub id: Uuid,
    pub kind: String,
    pub filename: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub bytes_received: i64,
    pub state: String,
    pub asset_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl UploadRow {
    /// Open, and not past its expiry (the sweeper may not have run yet).
    pub fn is_open(&self) -> bool {
        self.state == "open" && self.expires_at > Utc::now()
    }

    pub fn kind(&self) -> Result<AssetKindName, ShootoutError> {
        AssetKindName::stored("uploads.kind", &self.kind)
    }

    /// The declared size.
    pub fn size(&self) -> Result<u64, ShootoutError> {
        Ok(stored("uploads.size_bytes", self.size_bytes)?)
    }

    /// Bytes stored so far.
    pub fn received(&self) -> Result<u64, ShootoutError> {
        Ok(stored("uploads.bytes_received", self.bytes_received)?)
    }

    pub fn to_proto(&self) -> Result<Upload, ShootoutError> {
        let state = match self.state.as_str() {
            "open" if self.is_open() => UploadState::Open,
            "open" | "expired" => UploadState::Expired,
            "finished" => UploadState::Finished,
            "aborted" => UploadState::Aborted,
            other => {
                return Err(ShootoutError::Corrupt(format!(
                    "uploads.state holds {other:?}"
                )));
            }
        };
        Ok(Upload {
            upload_id: self.id.to_string(),
            kind: self.kind()?.to_proto() as i32,
            filename: self.filename.clone(),
            size_bytes: self.size()?,
            sha256: self.sha256.clone(),
            bytes_received: self.received()?,
            state: state as i32,
            max_chunk_bytes: MAX_CHUNK_BYTES,
            created_at: Some(timestamp(self.created_at)),
            expires_at: Some(timestamp(self.expires_at)),
            asset_id: self.asset_id.map(|id| id.to_string()).unwrap_or_default(),
        })
    }
}

/// A declared upload about to be opened.
pub struct NewUpload<'a> {
    pub owner: Uuid,
    pub kind: AssetKindName,
    pub filename: &'a str,
    pub size_bytes: u64,
    pub sha256: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// Opens the upload and returns its row.
pub async fn insert(
    conn: &mut PgConnection,
    upload: NewUpload<'_>,
) -> Result<UploadRow, ShootoutError> {
    let size: i64 = stored("uploads.size_bytes", upload.size_bytes)?;
    Ok(sqlx::query_as(concat!(
        "INSERT INTO uploads (id, owner_id, kind, filename, size_bytes, sha256, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
        columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(upload.owner)
    .bind(upload.kind.as_db())
    .bind(upload.filename)
    .bind(size)
    .bind(upload.sha256)
    .bind(upload.expires_at)
    .fetch_one(conn)
    .await?)
}

/// Reads upload `id` of `owner`; NOT_FOUND when missing or someone else's.
pub async fn find(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
) -> Result<UploadRow, ShootoutError> {
    select(conn, owner, id, false).await
}

/// [`find`], locked for the rest of the transaction.
pub async fn lock(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
) -> Result<UploadRow, ShootoutError> {
    select(conn, owner, id, true).await
}

async fn select(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<UploadRow, ShootoutError> {
    let sql = if lock {
        concat!(
            "SELECT ",
            columns!(),
            " FROM uploads WHERE id = $1 AND owner_id = $2 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            columns!(),
            " FROM uploads WHERE id = $1 AND owner_id = $2"
        )
    };
    sqlx::query_as(sql)
        .bind(id)
        .bind(owner)
        .fetch_optional(conn)
        .await?
        .ok_or(ShootoutError::NotFound("upload"))
}

/// Serialises `owner`'s Begins for the rest of the transaction, so the quota and the cap on
/// open uploads cannot be raced past.
pub async fn lock_owner(conn: &mut PgConnection, owner: Uuid) -> Result<(), ShootoutError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1::text))")
        .bind(owner)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many of `owner`'s uploads are open and unexpired.
pub async fn count_open(conn: &mut PgConnection, owner: Uuid) -> Result<u64, ShootoutError> {
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM uploads WHERE owner_id = $1 AND state = 'open' AND expires_at > now()",
    )
    .bind(owner)
    .fetch_one(conn)
    .await?;
    Ok(stored("the count of open uploads", open)?)
}

/// Records that `received` bytes are stored and moves the expiry to `expires_at`.
pub async fn set_received(
    conn: &mut PgConnection,
    id: Uuid,
    received: u64,
    expires_at: DateTime<Utc>,
) -> Result<(), ShootoutError> {
    let received: i64 = stored("uploads.bytes_received", received)?;
    sqlx::query("UPDATE uploads SET bytes_received = $2, expires_at = $3 WHERE id = $1")
        .bind(id)
        .bind(received)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the upload aborted (its bytes are the caller's to remove).
pub async fn mark_aborted(conn: &mut PgConnection, id: Uuid) -> Result<(), ShootoutError> {
    sqlx::query("UPDATE uploads SET state = 'aborted' WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the upload finished as `asset_id`.
pub async fn mark_finished(
    conn: &mut PgConnection,
    id: Uuid,
    asset_id: Uuid,
) -> Result<(), ShootoutError> {
    sqlx::query("UPDATE uploads SET state = 'finished', asset_id = $2 WHERE id = $1")
        .bind(id)
        .bind(asset_id)
        .execute(conn)
        .await?;
    Ok(())
}
