//! Uploads and assets: the shared state of `UploadService` and `AssetService`.
//!
//! Contract: an upload's bytes are staged in a local file named by its id and written at
//! explicit offsets, so a repeated chunk is compared rather than appended and a crash
//! between the file write and the row update is repaired by the next chunk. The row
//! (locked `FOR UPDATE` by every call) is the truth about how many bytes arrived. Finishing
//! hashes and validates the staged file, copies it to the object store under its content
//! key and creates the asset; a rejected file is discarded whole. A user's quota counts
//! their assets and the declared size of their open uploads.

pub mod assembly;
pub mod staging;
pub mod store;
pub mod sweep;

use gts_storage::BlobStore;
use sqlx::{PgPool, Postgres, Transaction, pool::PoolConnection};

use crate::{config::UploadSettings, error::ShootoutError};

/// Largest chunk `PutChunk` accepts.
pub const MAX_CHUNK_BYTES: u32 = 1024 * 1024;

/// What the upload and asset handlers share.
#[derive(Clone)]
pub struct UploadContext {
    pub db: PgPool,
    pub blobs: BlobStore,
    pub settings: UploadSettings,
}

impl UploadContext {
    /// A connection for a handler's reads.
    pub async fn conn(&self) -> Result<PoolConnection<Postgres>, ShootoutError> {
        Ok(self.db.acquire().await?)
    }

    /// A transaction for a handler's changes.
    pub async fn begin(&self) -> Result<Transaction<'static, Postgres>, ShootoutError> {
        Ok(self.db.begin().await?)
    }
}
