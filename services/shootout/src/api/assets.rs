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
    assets::{AssetKindName, store},
    convert::{Cursor, List, page_size, parse_id},
    error::{ShootoutError, invalid},
    uploads::UploadContext,
};

/// How many of the shootouts using an asset a refused delete names.
const NAMED_USERS: u32 = 4;

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
        let mut conn = self.context.conn().await?;
        // One more than a page, to know whether another page follows.
        let mut rows = store::list(&mut conn, user.user_id, kind, after, size + 1).await?;
        let has_more = rows.len() > size as usize;
        rows.truncate(size as usize);
        let next_page_token = match rows.last() {
            Some(last) if has_more => Cursor {
                created_at: last.created_at,
                id: last.id,
            }
            .encode(List::Assets),
            _ => String::new(),
        };
        let used = store::quota_used(&mut conn, user.user_id).await?;
        let assets = rows
            .iter()
            .map(store::AssetRow::to_proto)
            .collect::<Result<_, _>>()?;
        Ok(Response::new(ListAssetsResponse {
            assets,
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
        let mut conn = self.context.conn().await?;
        let asset = store::find(&mut conn, user.user_id, id).await?;
        Ok(Response::new(GetAssetResponse {
            asset: Some(asset.to_proto()?),
        }))
    }

    async fn delete_asset(
        &self,
        request: Request<DeleteAssetRequest>,
    ) -> Result<Response<DeleteAssetResponse>, Status> {
        let user = require_user(&request)?;
        let id = parse_id("asset_id", &request.get_ref().asset_id)?;
        let mut tx = self.context.begin().await?;
        let asset = store::lock(&mut tx, user.user_id, id).await?;
        let users = store::shootouts_using(&mut tx, id, NAMED_USERS).await?;
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
        let shared = store::delete(&mut tx, &asset).await?;
        tx.commit().await.map_err(ShootoutError::from)?;
        if !shared && let Err(error) = self.context.blobs.delete(&asset.object_key).await {
            // The row is gone; an orphan blob costs space, not correctness.
            tracing::warn!(%error, key = %asset.object_key, "cannot delete a blob");
        }
        Ok(Response::new(DeleteAssetResponse {}))
    }
}
