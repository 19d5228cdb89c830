//! `gts.v1.AssetService`: the caller's uploaded files.
//!
//! Contract: listing is newest first with cursor tokens and reports the quota; deleting an
//! asset a shootout still uses is refused with FAILED_PRECONDITION naming the shootout; the
//! blob is removed once no asset row points at its content key any more.

use gts_common::identity::require_user;
use gts_proto::v1::{
    DeleteAssetRequest, DeleteAssetResponse, GetAssetRequest, GetAssetResponse, ListAssetsRequest,
    ListAssetsResponse, asset_service_server::AssetService,
};
use tonic::{Request, Response, Status};

use crate::{
    assets::AssetKindName,
    convert::{Cursor, List, page_size, parse_id},
    error::{ShootoutError, invalid},
    uploads::{
        UploadContext,
        records::{AssetRow, find_asset, quota_used},
    },
};

/// The `AssetService` handler.
pub struct AssetApi {
    context: UploadContext,
}

impl AssetApi {
    pub fn new(context: UploadContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl AssetService for AssetApi {
    async fn list_assets(
        &self,
        request: Request<ListAssetsRequest>,
    ) -> Result<Response<ListAssetsResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.get_ref();
        let size = page_size("page_size", request.page_size)?;
        let after = Cursor::decode(List::Assets, "page_token", &request.page_token)?;
        let kind = match request.kind {
            0 => None,
            raw => Some(
                AssetKindName::from_proto(raw)
                    .ok_or_else(|| invalid("kind", "unknown asset kind"))?,
            ),
        };
        let rows: Vec<AssetRow> = sqlx::query_as(
            "SELECT id, owner_id, kind, filename, size_bytes, sha256, object_key, facts, created_at \
             FROM assets WHERE owner_id = $1 AND ($2::text IS NULL OR kind = $2) \
             AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) \
             ORDER BY created_at DESC, id DESC LIMIT $5",
        )
        .bind(user.user_id)
        .bind(kind.map(AssetKindName::as_db))
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.id).unwrap_or_default())
        .bind(i64::from(size) + 1)
        .fetch_all(&self.context.db)
        .await
        .map_err(ShootoutError::from)?;
        let has_more = rows.len() > size as usize;
        let rows: Vec<AssetRow> = rows.into_iter().take(size as usize).collect();
        let next_page_token = match rows.last() {
            Some(last) if has_more => Cursor {
                created_at: last.created_at,
                id: last.id,
            }
            .encode(List::Assets),
            _ => String::new(),
        };
        let mut conn = self
            .context
            .db
            .acquire()
            .await
            .map_err(ShootoutError::from)?;
        let used = quota_used(&mut conn, user.user_id).await?;
        Ok(Response::new(ListAssetsResponse {
            assets: rows.iter().map(AssetRow::to_proto).collect(),
            next_page_token,
            quota_used_bytes: used,
            quota_limit_bytes: self.context.settings.quota_bytes,
        }))
    }

    async fn get_asset(
        &self,
        request: Request<GetAssetRequest>,
    ) -> Result<Response<GetAssetResponse>, Status> {
        let user = require_user(&request)?;
        let id = parse_id("asset_id", &request.get_ref().asset_id)?;
        let mut conn = self
            .context
            .db
            .acquire()
            .await
            .map_err(ShootoutError::from)?;
        let asset = find_asset(&mut conn, user.user_id, id, false).await?;
        Ok(Response::new(GetAssetResponse {
            asset: Some(asset.to_proto()),
        }))
    }

    async fn delete_asset(
        &self,
        request: Request<DeleteAssetRequest>,
    ) -> Result<Response<DeleteAssetResponse>, Status> {
        let user = require_user(&request)?;
        let id = parse_id("asset_id", &request.get_ref().asset_id)?;
        let mut tx = self.context.db.begin().await.map_err(ShootoutError::from)?;
        let asset = find_asset(&mut tx, user.user_id, id, true).await?;
        let users: Vec<String> = sqlx::query_scalar(
            "SELECT s.name FROM shootouts s JOIN di_tracks d ON d.shootout_id = s.id \
             WHERE d.asset_id = $1 \
             UNION SELECT s.name FROM shootouts s JOIN signal_chains c ON c.shootout_id = s.id \
             JOIN chain_assets a ON a.chain_id = c.id WHERE a.asset_id = $1 \
             ORDER BY 1 LIMIT 4",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(ShootoutError::from)?;
        if let Some(first) = users.first() {
            let more = match users.len() {
                1 => String::new(),
                n => format!(
                    " and {} other shootout{}",
                    n - 1,
                    if n == 2 { "" } else { "s" }
                ),
            };
            return Err(ShootoutError::FailedPrecondition(format!(
                "{:?} is used by the shootout {first:?}{more}; remove it from there first",
                asset.filename
            ))
            .into());
        }
        sqlx::query("DELETE FROM assets WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(ShootoutError::from)?;
        let shared: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM assets WHERE object_key = $1)")
                .bind(&asset.object_key)
                .fetch_one(&mut *tx)
                .await
                .map_err(ShootoutError::from)?;
        tx.commit().await.map_err(ShootoutError::from)?;
        if !shared && let Err(error) = self.context.blobs.delete(&asset.object_key).await {
            // The row is gone; an orphan blob costs space, not correctness.
            tracing::warn!(%error, key = %asset.object_key, "cannot delete a blob");
        }
        Ok(Response::new(DeleteAssetResponse {}))
    }
}
