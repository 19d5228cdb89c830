//! Upload and asset rows, and their protobuf forms.

use chrono::{DateTime, Utc};
use gts_proto::v1::{Asset, AudioFacts, IrFacts, NamFacts, Upload, UploadState, asset::Facts};
use prost::Message;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{assets::AssetKindName, convert::timestamp, error::ShootoutError};

/// Largest chunk `PutChunk` accepts.
pub const MAX_CHUNK_BYTES: u32 = 1024 * 1024;

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

    pub fn kind(&self) -> Option<AssetKindName> {
        AssetKindName::from_db(&self.kind)
    }

    pub fn size(&self) -> u64 {
        u64::try_from(self.size_bytes).unwrap_or(0)
    }

    pub fn received(&self) -> u64 {
        u64::try_from(self.bytes_received).unwrap_or(0)
    }

    pub fn to_proto(&self) -> Upload {
        let state = match self.state.as_str() {
            "open" if self.is_open() => UploadState::Open,
            "open" | "expired" => UploadState::Expired,
            "finished" => UploadState::Finished,
            "aborted" => UploadState::Aborted,
            _ => UploadState::Unspecified,
        };
        Upload {
            upload_id: self.id.to_string(),
            kind: self.kind().map(|k| k.to_proto() as i32).unwrap_or(0),
            filename: self.filename.clone(),
            size_bytes: self.size(),
            sha256: self.sha256.clone(),
            bytes_received: self.received(),
            state: state as i32,
            max_chunk_bytes: MAX_CHUNK_BYTES,
            created_at: Some(timestamp(self.created_at)),
            expires_at: Some(timestamp(self.expires_at)),
            asset_id: self.asset_id.map(|id| id.to_string()).unwrap_or_default(),
        }
    }
}

/// Reads upload `id` of `owner`, locked for the rest of the transaction; NOT_FOUND when
/// missing or someone else's.
pub async fn lock_upload(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
) -> Result<UploadRow, ShootoutError> {
    sqlx::query_as(
        "SELECT id, owner_id, kind, filename, size_bytes, sha256, bytes_received, state, \
         asset_id, created_at, expires_at FROM uploads WHERE id = $1 AND owner_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(conn)
    .await?
    .ok_or(ShootoutError::NotFound("upload"))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssetRow {
    pub id: Uuid,
    pub kind: String,
    pub filename: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub object_key: String,
    pub facts: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

impl AssetRow {
    pub fn to_proto(&self) -> Asset {
        let kind = AssetKindName::from_db(&self.kind);
        // Facts were encoded by this service; a row that fails to decode shows none.
        let facts = match kind {
            Some(AssetKindName::DiTrack) => AudioFacts::decode(self.facts.as_slice())
                .ok()
                .map(Facts::Audio),
            Some(AssetKindName::NamModel) => {
                NamFacts::decode(self.facts.as_slice()).ok().map(Facts::Nam)
            }
            Some(AssetKindName::ImpulseResponse) => {
                IrFacts::decode(self.facts.as_slice()).ok().map(Facts::Ir)
            }
            None => None,
        };
        Asset {
            id: self.id.to_string(),
            kind: kind.map(|k| k.to_proto() as i32).unwrap_or(0),
            filename: self.filename.clone(),
            size_bytes: u64::try_from(self.size_bytes).unwrap_or(0),
            sha256: self.sha256.clone(),
            created_at: Some(timestamp(self.created_at)),
            facts,
        }
    }
}

/// Reads asset `id` of `owner`; NOT_FOUND when missing or someone else's.
pub async fn find_asset(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<AssetRow, ShootoutError> {
    let sql = if lock {
        "SELECT id, owner_id, kind, filename, size_bytes, sha256, object_key, facts, created_at \
         FROM assets WHERE id = $1 AND owner_id = $2 FOR UPDATE"
    } else {
        "SELECT id, owner_id, kind, filename, size_bytes, sha256, object_key, facts, created_at \
         FROM assets WHERE id = $1 AND owner_id = $2"
    };
    sqlx::query_as(sql)
        .bind(id)
        .bind(owner)
        .fetch_optional(conn)
        .await?
        .ok_or(ShootoutError::NotFound("asset"))
}

/// Bytes `owner`'s assets and open uploads use.
pub async fn quota_used(conn: &mut PgConnection, owner: Uuid) -> Result<u64, ShootoutError> {
    let used: i64 = sqlx::query_scalar(
        "SELECT (SELECT COALESCE(SUM(size_bytes), 0) FROM assets WHERE owner_id = $1)::bigint \
         + (SELECT COALESCE(SUM(size_bytes), 0) FROM uploads \
            WHERE owner_id = $1 AND state = 'open' AND expires_at > now())::bigint",
    )
    .bind(owner)
    .fetch_one(conn)
    .await?;
    Ok(u64::try_from(used).unwrap_or(0))
}
