//! `gts.v1.UploadService`: chunked, resumable uploads over unary calls.
//!
//! Contract: Begin checks the declaration (kind, name, size within the kind's limit and
//! the caller's quota, SHA-256 shape) and the cap on open uploads; PutChunk accepts chunks
//! at `offset <= bytes_received` (repeated bytes must match, new bytes are appended);
//! Finish checks size and SHA-256, validates the content by kind and creates the asset, or
//! discards the upload whole with INVALID_ARGUMENT. Every call is scoped to the caller.

use std::path::PathBuf;

use chrono::Utc;
use gts_common::identity::require_user;
use gts_proto::v1::{
    AbortUploadRequest, AbortUploadResponse, BeginUploadRequest, BeginUploadResponse,
    FinishUploadRequest, FinishUploadResponse, GetUploadRequest, GetUploadResponse,
    PutChunkRequest, PutChunkResponse, upload_service_server::UploadService,
};
use gts_storage::content_key;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    assets::{
        AssetKindName,
        store::{self as assets, NewAsset},
    },
    content::{self, ContentError, audio},
    convert::parse_id,
    error::{ShootoutError, Violations, invalid},
    uploads::{
        MAX_CHUNK_BYTES, UploadContext,
        assembly::{ChunkRefusal, plan_chunk},
        staging,
        store::{self as uploads, NewUpload, UploadRow},
    },
};

/// Largest file of each kind.
pub fn max_bytes(kind: AssetKindName) -> u64 {
    match kind {
        AssetKindName::DiTrack => 1024 * 1024 * 1024,
        AssetKindName::NamModel => content::nam::MAX_NAM_BYTES,
        AssetKindName::ImpulseResponse => 64 * 1024 * 1024,
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The `UploadService` handler.
pub struct UploadApi {
    context: UploadContext,
}

impl UploadApi {
    pub fn new(context: UploadContext) -> Self {
        Self { context }
    }

    fn staging_path(&self, id: Uuid) -> PathBuf {
        staging::path(&self.context.settings.staging_dir, id)
    }

    fn expires_at(&self) -> chrono::DateTime<Utc> {
        Utc::now()
            + chrono::Duration::from_std(self.context.settings.ttl)
                .unwrap_or(chrono::Duration::hours(24))
    }

    /// Marks the upload aborted and deletes its bytes, then returns `error`.
    async fn discard(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
        id: Uuid,
        error: ShootoutError,
    ) -> ShootoutError {
        if let Err(db_error) = uploads::mark_aborted(&mut tx, id).await {
            return db_error;
        }
        if let Err(db_error) = tx.commit().await {
            return db_error.into();
        }
        staging::remove(&self.context.settings.staging_dir, id).await;
        error
    }

    async fn finish(&self, owner: Uuid, id: Uuid) -> Result<gts_proto::v1::Asset, ShootoutError> {
        let mut tx = self.context.begin().await?;
        let upload = uploads::lock(&mut tx, owner, id).await?;
        match upload.state.as_str() {
            "finished" => {
                let asset_id = upload.asset_id.ok_or(ShootoutError::NotFound("asset"))?;
                return assets::find(&mut tx, owner, asset_id).await?.to_proto();
            }
            _ if !upload.is_open() => return Err(not_open(&upload)),
            _ => {}
        }
        let (received, size) = (upload.received()?, upload.size()?);
        if received < size {
            return Err(ShootoutError::FailedPrecondition(format!(
                "only {received} of {size} bytes have arrived; send the rest starting at offset \
                 {received}"
            )));
        }
        let path = self.staging_path(id);
        let actual = staging::sha256(&path, size).await?;
        if actual.as_deref() != Some(upload.sha256.as_str()) {
            let message = format!(
                "the uploaded bytes hash to {}, not the declared {}; the upload was discarded, \
                 start again",
                actual.unwrap_or_else(|| "(missing bytes)".into()),
                upload.sha256
            );
            return Err(self.discard(tx, id, invalid("sha256", message)).await);
        }
        let kind = upload.kind()?;
        let validation_path = path.clone();
        let validated = match tokio::task::spawn_blocking(move || validate(kind, &validation_path))
            .await
        {
            Ok(validated) => validated,
            // A decoder bug on hostile input must not keep the file or take the call down.
            Err(join) if join.is_panic() => {
                // User-caused: logged at info so a hostile file cannot drive ERROR volume.
                tracing::info!(upload = %id, "a content validator panicked on an uploaded file");
                Err(ContentError::new("the file could not be decoded safely"))
            }
            Err(join) => {
                return Err(ShootoutError::Storage(format!(
                    "validation task failed: {join}"
                )));
            }
        };
        let facts = match validated {
            Ok(facts) => facts,
            Err(ContentError(message)) => {
                return Err(self
                    .discard(
                        tx,
                        id,
                        invalid("file", format!("{message}; the upload was discarded")),
                    )
                    .await);
            }
        };
        let key = content_key(&upload.sha256);
        let blobs = &self.context.blobs;
        if !blobs.exists(&key).await.map_err(storage)? {
            blobs.put_file(&key, &path).await.map_err(storage)?;
        }
        let asset = assets::insert(
            &mut tx,
            NewAsset {
                owner,
                kind,
                filename: &upload.filename,
                size_bytes: size,
                sha256: &upload.sha256,
                object_key: &key,
                facts,
            },
        )
        .await?;
        uploads::mark_finished(&mut tx, id, asset.id).await?;
        let asset = asset.to_proto()?;
        tx.commit().await?;
        staging::remove(&self.context.settings.staging_dir, id).await;
        Ok(asset)
    }
}

fn storage(error: gts_storage::StorageError) -> ShootoutError {
    ShootoutError::Storage(error.to_string())
}

/// Validates the staged file by kind (blocking: decodes audio or builds a model) and
/// returns its encoded facts (`AudioFacts`, `NamFacts` or `IrFacts`).
fn validate(kind: AssetKindName, path: &std::path::Path) -> Result<Vec<u8>, ContentError> {
    use prost::Message;
    match kind {
        AssetKindName::DiTrack => {
            audio::analyze(path, &audio::DI_TRACK).map(|a| a.to_audio_facts().encode_to_vec())
        }
        AssetKindName::ImpulseResponse => {
            audio::analyze(path, &audio::IMPULSE_RESPONSE).map(|a| a.to_ir_facts().encode_to_vec())
        }
        AssetKindName::NamModel => content::nam::analyze(path).map(|f| f.encode_to_vec()),
    }
}

fn not_open(upload: &UploadRow) -> ShootoutError {
    let why = match upload.state.as_str() {
        "finished" => "it is already finished",
        "aborted" => "it was aborted",
        _ => "it expired",
    };
    ShootoutError::FailedPrecondition(format!(
        "this upload cannot take more calls: {why}; start a new upload"
    ))
}

fn check_filename(violations: &mut Violations, filename: &str) {
    let chars = filename.chars().count();
    if filename.trim().is_empty() {
        violations.add("filename", "give the file's name, e.g. riff.wav");
    } else if chars > 255 {
        violations.add(
            "filename",
            format!("the name is {chars} characters; at most 255"),
        );
    } else if filename.contains(['/', '\\']) || filename.chars().any(char::is_control) {
        violations.add(
            "filename",
            "give only the file's name, without folders or control characters",
        );
    }
}

#[tonic::async_trait]
impl UploadService for UploadApi {
    async fn begin_upload(
        &self,
        request: Request<BeginUploadRequest>,
    ) -> Result<Response<BeginUploadResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::default();
        let kind = AssetKindName::from_proto(request.kind);
        if kind.is_none() {
            violations.add(
                "kind",
                "say what the file is: a DI track, a NAM model or an impulse response",
            );
        }
        check_filename(&mut violations, &request.filename);
        if request.size_bytes == 0 {
            violations.add(
                "size_bytes",
                "the file is empty (0 bytes); choose a non-empty file",
            );
        } else if let Some(kind) = kind
            && request.size_bytes > max_bytes(kind)
        {
            violations.add(
                "size_bytes",
                format!(
                    "the file is {}; a {} may be at most {}",
                    mib(request.size_bytes),
                    kind.human(),
                    mib(max_bytes(kind))
                ),
            );
        }
        let sha256 = request.sha256.trim().to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            violations.add(
                "sha256",
                "give the file's SHA-256 as 64 hexadecimal characters",
            );
        }
        violations.into_result()?;
        let kind = kind.ok_or_else(|| invalid("kind", "is required"))?;

        let settings = &self.context.settings;
        let mut tx = self.context.begin().await?;
        uploads::lock_owner(&mut tx, user.user_id).await?;
        let open = uploads::count_open(&mut tx, user.user_id).await?;
        if open >= u64::from(settings.max_open) {
            return Err(ShootoutError::ResourceExhausted(format!(
                "you have {open} unfinished uploads, the most allowed; finish or abort one first"
            ))
            .into());
        }
        let used = assets::quota_used(&mut tx, user.user_id).await?;
        if used.saturating_add(request.size_bytes) > settings.quota_bytes {
            return Err(ShootoutError::ResourceExhausted(format!(
                "this file needs {} but only {} of your {} storage is free; delete assets you no \
                 longer use",
                mib(request.size_bytes),
                mib(settings.quota_bytes.saturating_sub(used)),
                mib(settings.quota_bytes)
            ))
            .into());
        }
        let row = uploads::insert(
            &mut tx,
            NewUpload {
                owner: user.user_id,
                kind,
                filename: request.filename.trim(),
                size_bytes: request.size_bytes,
                sha256: &sha256,
                expires_at: self.expires_at(),
            },
        )
        .await?;
        let upload = row.to_proto()?;
        staging::create(&settings.staging_dir, row.id).await?;
        tx.commit().await.map_err(ShootoutError::from)?;
        Ok(Response::new(BeginUploadResponse {
            upload: Some(upload),
        }))
    }

    async fn put_chunk(
        &self,
        request: Request<PutChunkRequest>,
    ) -> Result<Response<PutChunkResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let id = parse_id("upload_id", &request.upload_id)?;
        let len = request.data.len() as u64;
        if len == 0 || len > u64::from(MAX_CHUNK_BYTES) {
            return Err(invalid(
                "data",
                format!(
                    "a chunk holds 1 byte to {MAX_CHUNK_BYTES} bytes (1 MiB); this one has {len}"
                ),
            )
            .into());
        }
        let mut tx = self.context.begin().await?;
        let upload = uploads::lock(&mut tx, user.user_id, id).await?;
        if !upload.is_open() {
            return Err(not_open(&upload).into());
        }
        let (offset, received, size) = (request.offset, upload.received()?, upload.size()?);
        let plan = match plan_chunk(offset, len, received, size) {
            Ok(plan) => plan,
            Err(ChunkRefusal::Gap) => {
                return Err(ShootoutError::FailedPrecondition(format!(
                    "offset {offset} would leave a gap: {received} bytes have arrived, so resume \
                     at offset {received}"
                ))
                .into());
            }
            Err(ChunkRefusal::PastSize { end }) => {
                return Err(invalid(
                    "data",
                    format!(
                        "this chunk ends at byte {end}, past the declared size of {size} bytes"
                    ),
                )
                .into());
            }
            Err(ChunkRefusal::BadLength) => {
                return Err(invalid("data", "a chunk holds 1 byte to 1 MiB").into());
            }
        };
        let path = self.staging_path(id);
        if staging::len(&path)
            .await?
            .is_none_or(|stored| stored < received)
        {
            return Err(ShootoutError::FailedPrecondition(
                "the bytes of this upload are no longer on the server; start a new upload".into(),
            )
            .into());
        }
        // Bytes already stored must be resent identically (a retried chunk); the rest is new.
        let (repeated, fresh) = request.data.split_at(plan.repeated.min(request.data.len()));
        if !repeated.is_empty() && !staging::matches(&path, offset, repeated).await? {
            return Err(ShootoutError::FailedPrecondition(format!(
                "the bytes at offset {offset} differ from the ones already stored; resend the \
                 same file, or start a new upload"
            ))
            .into());
        }
        if !fresh.is_empty() {
            staging::write_at(&path, received, fresh).await?;
        }
        let new_received = plan.new_received;
        uploads::set_received(&mut tx, id, new_received, self.expires_at()).await?;
        tx.commit().await.map_err(ShootoutError::from)?;
        // Bytes stored, not bytes sent: refused and repeated chunks are not counted.
        metrics::counter!("gts_upload_bytes_total").increment(fresh.len() as u64);
        Ok(Response::new(PutChunkResponse {
            bytes_received: new_received,
        }))
    }

    async fn get_upload(
        &self,
        request: Request<GetUploadRequest>,
    ) -> Result<Response<GetUploadResponse>, Status> {
        let user = require_user(&request)?;
        let id = parse_id("upload_id", &request.get_ref().upload_id)?;
        let mut conn = self.context.conn().await?;
        let upload = uploads::find(&mut conn, user.user_id, id).await?;
        Ok(Response::new(GetUploadResponse {
            upload: Some(upload.to_proto()?),
        }))
    }

    async fn finish_upload(
        &self,
        request: Request<FinishUploadRequest>,
    ) -> Result<Response<FinishUploadResponse>, Status> {
        let user = require_user(&request)?;
        let id = parse_id("upload_id", &request.get_ref().upload_id)?;
        let asset = self.finish(user.user_id, id).await?;
        Ok(Response::new(FinishUploadResponse { asset: Some(asset) }))
    }

    async fn abort_upload(
        &self,
        request: Request<AbortUploadRequest>,
    ) -> Result<Response<AbortUploadResponse>, Status> {
        let user = require_user(&request)?;
        let id = parse_id("upload_id", &request.get_ref().upload_id)?;
        let mut tx = self.context.begin().await?;
        let upload = uploads::lock(&mut tx, user.user_id, id).await?;
        if upload.state == "finished" {
            return Err(ShootoutError::FailedPrecondition(
                "this upload is finished; delete its asset instead".into(),
            )
            .into());
        }
        if upload.state == "open" {
            uploads::mark_aborted(&mut tx, id).await?;
        }
        tx.commit().await.map_err(ShootoutError::from)?;
        staging::remove(&self.context.settings.staging_dir, id).await;
        Ok(Response::new(AbortUploadResponse {}))
    }
}
