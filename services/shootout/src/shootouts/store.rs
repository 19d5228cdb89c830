//! Reading and writing a shootout aggregate (the row, its DI tracks and its chains).
//!
//! Contract: every mutation runs in one transaction that locks the shootout row
//! (`FOR UPDATE`), checks the etag, rewrites the children whole and bumps `version`, so
//! concurrent edits serialise and a stale etag never overwrites a newer change. Blocks are
//! stored protobuf-encoded, so a read returns exactly what was validated and written.
//! A shootout owned by someone else is read as absent.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use gts_proto::v1::{
    Block, DiTrackRef, OutputOptions, Shootout, SignalChain, block::Kind, model_source::Source,
};
use prost::Message;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::{
    convert::{Cursor, timestamp},
    error::{ShootoutError, invalid},
};

#[derive(sqlx::FromRow)]
struct ShootoutRow {
    id: Uuid,
    owner_id: Uuid,
    name: String,
    description: String,
    guitar: String,
    pickup_notes: String,
    loudness_target_lufs: f64,
    phrase_length_seconds: f64,
    input_level_dbfs: f64,
    di_calibration_dbu: Option<f64>,
    video_enabled: bool,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl ShootoutRow {
    fn into_proto(self) -> Shootout {
        Shootout {
            id: self.id.to_string(),
            owner_user_id: self.owner_id.to_string(),
            name: self.name,
            description: self.description,
            guitar: self.guitar,
            pickup_notes: self.pickup_notes,
            di_tracks: vec![],
            chains: vec![],
            output_options: Some(OutputOptions {
                loudness_target_lufs: Some(self.loudness_target_lufs),
                phrase_length_seconds: Some(self.phrase_length_seconds),
                video_enabled: self.video_enabled,
                input_level_dbfs: Some(self.input_level_dbfs),
                di_calibration_dbu: Some(
                    self.di_calibration_dbu
                        .unwrap_or(super::validate::DEFAULT_DI_CALIBRATION_DBU),
                ),
            }),
            created_at: Some(timestamp(self.created_at)),
            updated_at: Some(timestamp(self.updated_at)),
            etag: etag(self.version),
        }
    }
}

/// The etag of a version.
pub fn etag(version: i64) -> String {
    format!("v{version}")
}

/// Fails with ABORTED when `sent` is set and differs from the current etag.
pub fn check_etag(sent: &str, current: &str) -> Result<(), ShootoutError> {
    crate::convert::etag("etag", sent)?;
    if sent.is_empty() || sent == current {
        Ok(())
    } else {
        Err(ShootoutError::StaleEtag)
    }
}

/// A `signal_chains` row: shootout, id, name, description, encoded blocks, input high-pass,
/// input level mode.
type ChainRow = (Uuid, Uuid, String, String, Vec<u8>, Option<f64>, i16);

/// Encodes a chain's blocks for the `blocks` column.
fn encode_blocks(blocks: &[Block]) -> Vec<u8> {
    SignalChain {
        blocks: blocks.to_vec(),
        ..Default::default()
    }
    .encode_to_vec()
}

fn decode_blocks(bytes: &[u8]) -> Result<Vec<Block>, ShootoutError> {
    SignalChain::decode(bytes)
        .map(|chain| chain.blocks)
        .map_err(|error| ShootoutError::Corrupt(format!("stored blocks do not decode: {error}")))
}

async fn attach_children(
    conn: &mut PgConnection,
    shootouts: &mut [Shootout],
    ids: &[Uuid],
) -> Result<(), ShootoutError> {
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        index.insert(*id, i);
    }
    let tracks: Vec<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT shootout_id, asset_id, label FROM di_tracks WHERE shootout_id = ANY($1) \
         ORDER BY shootout_id, position",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    for (shootout_id, asset_id, label) in tracks {
        if let Some(shootout) = index.get(&shootout_id).and_then(|i| shootouts.get_mut(*i)) {
            shootout.di_tracks.push(DiTrackRef {
                asset_id: asset_id.to_string(),
                label,
            });
        }
    }
    let chains: Vec<ChainRow> = sqlx::query_as(
        "SELECT shootout_id, id, display_name, description, blocks, input_high_pass_hz, \
         input_level_mode FROM signal_chains \
         WHERE shootout_id = ANY($1) ORDER BY shootout_id, position",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    for (shootout_id, id, display_name, description, blocks, high_pass, input_level_mode) in chains
    {
        if let Some(shootout) = index.get(&shootout_id).and_then(|i| shootouts.get_mut(*i)) {
            shootout.chains.push(SignalChain {
                id: id.to_string(),
                display_name,
                description,
                blocks: decode_blocks(&blocks)?,
                input_high_pass_hz: Some(
                    high_pass.unwrap_or(super::validate::DEFAULT_INPUT_HIGH_PASS_HZ),
                ),
                input_level_mode: i32::from(input_level_mode),
            });
        }
    }
    Ok(())
}

/// A read-only REPEATABLE READ transaction: every read in it sees one snapshot, so a
/// shootout read outside a locking transaction is never half-deleted or half-updated
/// (its row from before a concurrent DeleteShootout/Update, its chains from after).
pub async fn snapshot(db: &PgPool) -> Result<Transaction<'static, Postgres>, ShootoutError> {
    let mut tx = db.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Reads one shootout of `owner`; `None` when missing or owned by someone else. Outside a
/// transaction that locked the row (`for_update`), call it within a [`snapshot`].
pub async fn load(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
    for_update: bool,
) -> Result<Option<Shootout>, ShootoutError> {
    let sql = if for_update {
        "SELECT id, owner_id, name, description, guitar, pickup_notes, loudness_target_lufs, \
         phrase_length_seconds, input_level_dbfs, di_calibration_dbu, video_enabled, version, \
         created_at, updated_at \
         FROM shootouts WHERE id = $1 AND owner_id = $2 FOR UPDATE"
    } else {
        "SELECT id, owner_id, name, description, guitar, pickup_notes, loudness_target_lufs, \
         phrase_length_seconds, input_level_dbfs, di_calibration_dbu, video_enabled, version, \
         created_at, updated_at \
         FROM shootouts WHERE id = $1 AND owner_id = $2"
    };
    let row: Option<ShootoutRow> = sqlx::query_as(sql)
        .bind(id)
        .bind(owner)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut shootouts = [row.into_proto()];
    attach_children(conn, &mut shootouts, &[id]).await?;
    let [shootout] = shootouts;
    Ok(Some(shootout))
}

/// Like [`load`], NOT_FOUND when absent.
pub async fn load_existing(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
    for_update: bool,
) -> Result<Shootout, ShootoutError> {
    load(conn, owner, id, for_update)
        .await?
        .ok_or(ShootoutError::NotFound("shootout"))
}

/// One page of `owner`'s shootouts, newest first, and the cursor of the next page.
pub async fn list(
    db: &PgPool,
    owner: Uuid,
    after: Option<Cursor>,
    page_size: u32,
) -> Result<(Vec<Shootout>, Option<Cursor>), ShootoutError> {
    let mut conn = snapshot(db).await?;
    let rows: Vec<ShootoutRow> = sqlx::query_as(
        "SELECT id, owner_id, name, description, guitar, pickup_notes, loudness_target_lufs, \
         phrase_length_seconds, input_level_dbfs, di_calibration_dbu, video_enabled, version, \
         created_at, updated_at \
         FROM shootouts WHERE owner_id = $1 \
         AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4",
    )
    .bind(owner)
    .bind(after.map(|c| c.created_at))
    .bind(after.map(|c| c.id).unwrap_or_default())
    .bind(i64::from(page_size) + 1)
    .fetch_all(&mut *conn)
    .await?;
    let has_more = rows.len() > page_size as usize;
    let rows: Vec<ShootoutRow> = rows.into_iter().take(page_size as usize).collect();
    let next = if has_more {
        rows.last().map(|row| Cursor {
            created_at: row.created_at,
            id: row.id,
        })
    } else {
        None
    };
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut shootouts: Vec<Shootout> = rows.into_iter().map(ShootoutRow::into_proto).collect();
    attach_children(&mut conn, &mut shootouts, &ids).await?;
    conn.commit().await?;
    Ok((shootouts, next))
}

/// Inserts a new shootout row (children follow with [`write_children`]).
pub async fn insert(
    tx: &mut Transaction<'static, Postgres>,
    owner: Uuid,
    id: Uuid,
    shootout: &Shootout,
) -> Result<(), ShootoutError> {
    let options = shootout.output_options.unwrap_or_default();
    sqlx::query(
        "INSERT INTO shootouts (id, owner_id, name, description, guitar, pickup_notes, \
         loudness_target_lufs, phrase_length_seconds, input_level_dbfs, video_enabled, \
         di_calibration_dbu) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(owner)
    .bind(&shootout.name)
    .bind(&shootout.description)
    .bind(&shootout.guitar)
    .bind(&shootout.pickup_notes)
    .bind(options.loudness_target_lufs)
    .bind(options.phrase_length_seconds)
    .bind(options.input_level_dbfs)
    .bind(options.video_enabled)
    .bind(options.di_calibration_dbu)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes a changed shootout back: its fields, a new version, and its children whole.
pub async fn save(
    tx: &mut Transaction<'static, Postgres>,
    id: Uuid,
    shootout: &Shootout,
) -> Result<(), ShootoutError> {
    let options = shootout.output_options.unwrap_or_default();
    sqlx::query(
        "UPDATE shootouts SET name = $2, description = $3, guitar = $4, pickup_notes = $5, \
         loudness_target_lufs = $6, phrase_length_seconds = $7, input_level_dbfs = $8, \
         video_enabled = $9, di_calibration_dbu = $10, version = version + 1, \
         updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(&shootout.name)
    .bind(&shootout.description)
    .bind(&shootout.guitar)
    .bind(&shootout.pickup_notes)
    .bind(options.loudness_target_lufs)
    .bind(options.phrase_length_seconds)
    .bind(options.input_level_dbfs)
    .bind(options.video_enabled)
    .bind(options.di_calibration_dbu)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM di_tracks WHERE shootout_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM signal_chains WHERE shootout_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    write_children(tx, id, shootout).await
}

/// Inserts the DI tracks, chains and chain asset references of `shootout`.
pub async fn write_children(
    tx: &mut Transaction<'static, Postgres>,
    id: Uuid,
    shootout: &Shootout,
) -> Result<(), ShootoutError> {
    for (position, track) in shootout.di_tracks.iter().enumerate() {
        let asset_id = Uuid::parse_str(track.asset_id.trim())
            .map_err(|_| invalid("di_tracks.asset_id", "is not an asset id"))?;
        sqlx::query(
            "INSERT INTO di_tracks (shootout_id, position, asset_id, label) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(i32::try_from(position).unwrap_or(i32::MAX))
        .bind(asset_id)
        .bind(&track.label)
        .execute(&mut **tx)
        .await?;
    }
    for (position, chain) in shootout.chains.iter().enumerate() {
        let chain_id =
            Uuid::parse_str(&chain.id).map_err(|_| invalid("chains.id", "is not a chain id"))?;
        sqlx::query(
            "INSERT INTO signal_chains \
             (id, shootout_id, position, display_name, description, blocks, input_high_pass_hz, \
             input_level_mode) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(chain_id)
        .bind(id)
        .bind(i32::try_from(position).unwrap_or(i32::MAX))
        .bind(&chain.display_name)
        .bind(&chain.description)
        .bind(encode_blocks(&chain.blocks))
        .bind(chain.input_high_pass_hz)
        .bind(i16::try_from(chain.input_level_mode).unwrap_or_default())
        .execute(&mut **tx)
        .await?;
        let assets = chain_asset_ids(&chain.blocks);
        if !assets.is_empty() {
            sqlx::query(
                "INSERT INTO chain_assets (chain_id, asset_id) \
                 SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING",
            )
            .bind(chain_id)
            .bind(&assets)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// The uploaded assets a chain's blocks use.
fn chain_asset_ids(blocks: &[Block]) -> Vec<Uuid> {
    blocks
        .iter()
        .filter_map(|block| match &block.kind {
            Some(Kind::NamModel(nam)) => nam.source.as_ref(),
            Some(Kind::CabinetIr(ir)) => ir.source.as_ref(),
            _ => None,
        })
        .filter_map(|source| match &source.source {
            Some(Source::AssetId(id)) => Uuid::parse_str(id.trim()).ok(),
            _ => None,
        })
        .collect()
}

/// Deletes a shootout (the caller has locked and ownership-checked it); children cascade.
pub async fn delete(
    tx: &mut Transaction<'static, Postgres>,
    id: Uuid,
) -> Result<(), ShootoutError> {
    sqlx::query("DELETE FROM shootouts WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
