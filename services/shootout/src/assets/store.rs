//! Asset rows: reading, listing, creating and deleting a user's assets, and their quota.
//!
//! Contract: every read is scoped to the owner (someone else's asset reads as absent); a
//! row is decoded whole or not at all, so a corrupt row (a negative size, an unknown kind,
//! facts that do not decode) is an error, never a zero or a missing field shown to a user.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use gts_common::stored::stored;
use gts_proto::v1::{Asset, AudioFacts, IrFacts, NamFacts, ObjectStoreRef, asset::Facts};
use prost::Message;
use sqlx::PgConnection;
use uuid::Uuid;

use super::AssetKindName;
use crate::{
    convert::{Cursor, timestamp},
    error::ShootoutError,
};

/// The columns every asset read selects, in [`AssetRow`]'s shape (a macro, so queries
/// stay the literal strings sqlx requires).
macro_rules! columns {
    () => {
        "id, owner_id, kind, filename, size_bytes, sha256, object_key, facts, created_at"
    };
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
    pub fn kind(&self) -> Result<AssetKindName, ShootoutError> {
        AssetKindName::stored("assets.kind", &self.kind)
    }

    pub fn to_proto(&self) -> Result<Asset, ShootoutError> {
        let kind = self.kind()?;
        // Facts were encoded by this service when it accepted the file.
        let facts = match kind {
            AssetKindName::DiTrack => Facts::Audio(AudioFacts::decode(self.facts.as_slice())?),
            AssetKindName::NamModel => Facts::Nam(NamFacts::decode(self.facts.as_slice())?),
            AssetKindName::ImpulseResponse => Facts::Ir(IrFacts::decode(self.facts.as_slice())?),
        };
        Ok(Asset {
            id: self.id.to_string(),
            kind: kind.to_proto() as i32,
            filename: self.filename.clone(),
            size_bytes: stored("assets.size_bytes", self.size_bytes)?,
            sha256: self.sha256.clone(),
            created_at: Some(timestamp(self.created_at)),
            facts: Some(facts),
        })
    }
}

/// A validated file about to become an asset.
pub struct NewAsset<'a> {
    pub owner: Uuid,
    pub kind: AssetKindName,
    pub filename: &'a str,
    pub size_bytes: u64,
    pub sha256: &'a str,
    pub object_key: &'a str,
    /// The encoded `AudioFacts`, `NamFacts` or `IrFacts` of the kind.
    pub facts: Vec<u8>,
}

/// Creates the asset and returns its row.
pub async fn insert(
    conn: &mut PgConnection,
    asset: NewAsset<'_>,
) -> Result<AssetRow, ShootoutError> {
    let size: i64 = stored("assets.size_bytes", asset.size_bytes)?;
    Ok(sqlx::query_as(concat!(
        "INSERT INTO assets (id, owner_id, kind, filename, size_bytes, sha256, object_key, \
         facts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
        columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(asset.owner)
    .bind(asset.kind.as_db())
    .bind(asset.filename)
    .bind(size)
    .bind(asset.sha256)
    .bind(asset.object_key)
    .bind(asset.facts)
    .fetch_one(conn)
    .await?)
}

/// Reads asset `id` of `owner`; NOT_FOUND when missing or someone else's.
pub async fn find(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
) -> Result<AssetRow, ShootoutError> {
    select(conn, owner, id, false).await
}

/// [`find`], locked for the rest of the transaction.
pub async fn lock(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
) -> Result<AssetRow, ShootoutError> {
    select(conn, owner, id, true).await
}

async fn select(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<AssetRow, ShootoutError> {
    let sql = if lock {
        concat!(
            "SELECT ",
            columns!(),
            " FROM assets WHERE id = $1 AND owner_id = $2 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            columns!(),
            " FROM assets WHERE id = $1 AND owner_id = $2"
        )
    };
    sqlx::query_as(sql)
        .bind(id)
        .bind(owner)
        .fetch_optional(conn)
        .await?
        .ok_or(ShootoutError::NotFound("asset"))
}

/// Up to `limit` of `owner`'s assets (of `kind`, when given) strictly older than `after`,
/// newest first.
pub async fn list(
    conn: &mut PgConnection,
    owner: Uuid,
    kind: Option<AssetKindName>,
    after: Option<Cursor>,
    limit: u32,
) -> Result<Vec<AssetRow>, ShootoutError> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM assets WHERE owner_id = $1 AND ($2::text IS NULL OR kind = $2) \
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(owner)
    .bind(kind.map(AssetKindName::as_db))
    .bind(after.map(|c| c.created_at))
    .bind(after.map(|c| c.id).unwrap_or_default())
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?)
}

/// Names of up to `limit` shootouts that use asset `id` (as a DI track or in a chain),
/// alphabetically.
pub async fn shootouts_using(
    conn: &mut PgConnection,
    id: Uuid,
    limit: u32,
) -> Result<Vec<String>, ShootoutError> {
    Ok(sqlx::query_scalar(
        "SELECT s.name FROM shootouts s JOIN di_tracks d ON d.shootout_id = s.id \
         WHERE d.asset_id = $1 \
         UNION SELECT s.name FROM shootouts s JOIN signal_chains c ON c.shootout_id = s.id \
         JOIN chain_assets a ON a.chain_id = c.id WHERE a.asset_id = $1 \
         ORDER BY 1 LIMIT $2",
    )
    .bind(id)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?)
}

/// Deletes `asset`'s row; true when another asset still points at its blob (content is
/// shared by key, so the blob stays).
pub async fn delete(conn: &mut PgConnection, asset: &AssetRow) -> Result<bool, ShootoutError> {
    sqlx::query("DELETE FROM assets WHERE id = $1")
        .bind(asset.id)
        .execute(&mut *conn)
        .await?;
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM assets WHERE object_key = $1)")
            .bind(&asset.object_key)
            .fetch_one(conn)
            .await?,
    )
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
    Ok(stored("the quota sum of assets and uploads", used)?)
}

/// An asset's blob, as a render reads it.
pub struct AssetBlob {
    pub filename: String,
    pub object: ObjectStoreRef,
}

/// The blobs of those of `ids` that `owner` has, by asset id (missing ids are absent).
pub async fn owned_blobs(
    conn: &mut PgConnection,
    owner: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<String, AssetBlob>, ShootoutError> {
    let rows: Vec<(Uuid, String, String, String, i64)> = sqlx::query_as(
        "SELECT id, filename, object_key, sha256, size_bytes FROM assets \
         WHERE owner_id = $1 AND id = ANY($2)",
    )
    .bind(owner)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, filename, key, sha256, size)| {
            let blob = AssetBlob {
                filename,
                object: ObjectStoreRef {
                    key,
                    sha256,
                    size_bytes: stored("assets.size_bytes", size)?,
                },
            };
            Ok((id.to_string(), blob))
        })
        .collect()
}
