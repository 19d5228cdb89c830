//! Fetching a job's input files into its scratch directory.
//!
//! Contract: every DI track and every NAM/IR block file of the spec ends up as a local
//! file, named after what it is (`di-1`, `chain-2-block-1`), so an engine error that names
//! a file tells the user which input it was. Uploads are streamed from the object store
//! to disk (bounded memory, however long the DI) and checked against their SHA-256; TONE3000 files come from the model cache, or are
//! downloaded with the owner's own TONE3000 token (from the auth service), checked when
//! GTS knows their hash, bounded in size, and cached. Failures are classified:
//! - [`RenderFailure::Transient`]: the object store, the auth service or TONE3000 cannot
//!   answer now (a 429 or 5xx, a timeout);
//! - [`RenderFailure::Input`]: the file is gone, too large, not where TONE3000 serves files,
//!   or the user must sign in to TONE3000 again.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use bytes::Bytes;
use gts_common::tone3000_token::Tone3000TokenSource;
use gts_proto::v1::{ObjectStoreRef, RenderSpec, Tone3000Download, resolved_source::Source};
use gts_storage::{BlobStore, StorageError, sha256_hex};
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{model_cache::ModelCache, scratch_failure, store_unavailable};
use crate::render::RenderFailure;

/// Where TONE3000 files are downloaded from.
#[derive(Clone)]
pub struct Tone3000Settings {
    /// API base (`GTS_TONE3000_URL`); downloads must be on its host.
    pub base_url: url::Url,
    /// OAuth client id the `tone3000` client is built with (`GTS_TONE3000_CLIENT_ID`).
    pub client_id: String,
    /// Largest file downloaded (`GTS_WORKER_MAX_DOWNLOAD_BYTES`).
    pub max_download_bytes: u64,
}

/// Fetches inputs.
#[derive(Clone)]
pub struct InputFetcher {
    pub blobs: BlobStore,
    pub cache: ModelCache,
    pub tokens: Arc<dyn Tone3000TokenSource>,
    pub tone3000: Tone3000Settings,
}

/// A job's inputs on local disk.
#[derive(Debug, Default)]
pub struct LocalInputs {
    /// One file per DI track, in spec order.
    pub di_tracks: Vec<PathBuf>,
    /// The file of each NAM/IR block, by (chain id, block id).
    pub blocks: HashMap<(String, String), PathBuf>,
}

impl InputFetcher {
    /// Fetches every input of `spec` for `owner` into `dir`, reporting 0..=1.
    pub async fn fetch(
        &self,
        spec: &RenderSpec,
        owner: Uuid,
        dir: &Path,
        cancel: &CancellationToken,
        on_progress: &(dyn Fn(f64) + Sync),
    ) -> Result<LocalInputs, RenderFailure> {
        let chains = spec
            .shootout
            .as_ref()
            .map(|shootout| shootout.chains.as_slice())
            .unwrap_or_default();
        let total = (spec.di_tracks.len() + spec.block_sources.len()).max(1) as f64;
        let mut done = 0.0;
        let mut inputs = LocalInputs::default();
        for (index, track) in spec.di_tracks.iter().enumerate() {
            check(cancel)?;
            let what = format!("DI track {} ({})", index + 1, track.label);
            let object = track
                .object
                .as_ref()
                .ok_or_else(|| RenderFailure::Input(format!("{what} has no stored file")))?;
            let path = dir.join(format!("di-{}", index + 1));
            self.copy_upload(object, &what, &path).await?;
            inputs.di_tracks.push(path);
            done += 1.0;
            on_progress(done / total);
        }
        for source in &spec.block_sources {
            check(cancel)?;
            let (chain_number, block_number) = position(chains, source);
            let what = format!("chain {chain_number}, block {block_number}");
            let path = dir.join(format!("chain-{chain_number}-block-{block_number}"));
            match source.source.as_ref().and_then(|s| s.source.as_ref()) {
                Some(Source::ObjectStoreKey(object)) => {
                    self.copy_upload(object, &what, &path).await?;
                }
                Some(Source::Tone3000Download(download)) => {
                    let bytes = self.read_library_file(download, owner, &what).await?;
                    write(&path, &bytes).await?;
                }
                None => {
                    return Err(RenderFailure::Input(format!("{what} has no file")));
                }
            }
            inputs
                .blocks
                .insert((source.chain_id.clone(), source.block_id.clone()), path);
            done += 1.0;
            on_progress(done / total);
        }
        Ok(inputs)
    }

    /// Streams an upload into `path` (bounded memory, hash checked).
    async fn copy_upload(
        &self,
        object: &ObjectStoreRef,
        what: &str,
        path: &Path,
    ) -> Result<(), RenderFailure> {
        match self
            .blobs
            .download_verified(&object.key, &object.sha256, path)
            .await
        {
            Ok(_) => Ok(()),
            Err(StorageError::NotFound(_)) => Err(RenderFailure::Input(format!(
                "the uploaded file of {what} is gone; upload it again"
            ))),
            Err(StorageError::Corrupt { .. }) => Err(RenderFailure::Input(format!(
                "the uploaded file of {what} is damaged in storage; upload it again"
            ))),
            Err(StorageError::Io(error)) => {
                tracing::error!(%error, path = %path.display(), "cannot write to the scratch directory");
                Err(scratch_failure())
            }
            Err(error) => {
                tracing::warn!(%error, "object store read failed");
                Err(store_unavailable())
            }
        }
    }

    async fn read_library_file(
        &self,
        download: &Tone3000Download,
        owner: Uuid,
        what: &str,
    ) -> Result<Bytes, RenderFailure> {
        let expected = download.sha256.as_deref();
        if let Some(bytes) = self.cache.get(download.model_id, expected).await {
            return Ok(bytes);
        }
        let url = self.checked_download_url(&download.download_url, what)?;
        let token =
            self.tokens
                .access_token(owner)
                .await
                .map_err(|status| match status.code() {
                    tonic::Code::FailedPrecondition => {
                        RenderFailure::Input(status.message().to_owned())
                    }
                    _ => RenderFailure::Transient(status.message().to_owned()),
                })?;
        let client = tone3000::Client::builder(self.tone3000.client_id.clone())
            .base_url(self.tone3000.base_url.as_str().trim_end_matches('/'))
            .access_token(token)
            .auto_refresh(false)
            .build();
        let model = download.model_id;
        let mut sink = CappedBuffer::new(self.tone3000.max_download_bytes);
        match client.download_url_to(url.as_str(), &mut sink).await {
            Ok(_) => {}
            Err(_) if sink.overflowed => {
                return Err(RenderFailure::Input(format!(
                    "the TONE3000 file of {what} (model {model}) is larger than {} bytes",
                    self.tone3000.max_download_bytes
                )));
            }
            Err(error) => return Err(download_failure(error, what, model)),
        }
        let bytes = Bytes::from(sink.bytes);
        if let Some(expected) = expected
            && sha256_hex(&bytes) != expected
        {
            return Err(RenderFailure::Input(format!(
                "the TONE3000 file of {what} (model {model}) changed since it was added; \
                 pick the model again"
            )));
        }
        self.cache.put(model, bytes.clone()).await;
        Ok(bytes)
    }

    /// The download URL, if it is on TONE3000's host: the user's token goes nowhere else.
    fn checked_download_url(&self, raw: &str, what: &str) -> Result<url::Url, RenderFailure> {
        let refused = || {
            RenderFailure::Input(format!(
                "the TONE3000 file of {what} has a download address outside TONE3000"
            ))
        };
        let url = url::Url::parse(raw).map_err(|_| refused())?;
        let base = &self.tone3000.base_url;
        let same_origin = url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default();
        if same_origin { Ok(url) } else { Err(refused()) }
    }
}

fn download_failure(error: tone3000::Error, what: &str, model: u64) -> RenderFailure {
    use tone3000::Error as E;
    match error {
        E::Unauthorized | E::Unauthenticated => RenderFailure::Input(
            "TONE3000 refused your sign-in; sign in with TONE3000 again".to_owned(),
        ),
        E::Forbidden => RenderFailure::Input(format!(
            "TONE3000 does not let you download the file of {what} (model {model})"
        )),
        E::Status { code: 404, .. } | E::Status { code: 410, .. } => RenderFailure::Input(format!(
            "the TONE3000 file of {what} (model {model}) no longer exists"
        )),
        other => {
            tracing::warn!(error = %other, model, "TONE3000 download failed");
            RenderFailure::Transient(
                "TONE3000 is unavailable right now; the render will be retried".to_owned(),
            )
        }
    }
}

/// 1-based (chain, block) numbers of a block source, for messages and file names.
fn position(
    chains: &[gts_proto::v1::SignalChain],
    source: &gts_proto::v1::ResolvedBlockSource,
) -> (usize, usize) {
    chains
        .iter()
        .enumerate()
        .find_map(|(chain_index, chain)| {
            (chain.id == source.chain_id).then(|| {
                let block = chain
                    .blocks
                    .iter()
                    .position(|block| block.id == source.block_id)
                    .unwrap_or(0);
                (chain_index + 1, block + 1)
            })
        })
        .unwrap_or((0, 0))
}

fn check(cancel: &CancellationToken) -> Result<(), RenderFailure> {
    if cancel.is_cancelled() {
        Err(RenderFailure::Cancelled)
    } else {
        Ok(())
    }
}

async fn write(path: &Path, bytes: &[u8]) -> Result<(), RenderFailure> {
    tokio::fs::write(path, bytes).await.map_err(|error| {
        tracing::error!(%error, path = %path.display(), "cannot write to the scratch directory");
        scratch_failure()
    })
}

/// An in-memory download sink that refuses to grow past a cap.
struct CappedBuffer {
    bytes: Vec<u8>,
    cap: u64,
    overflowed: bool,
}

impl CappedBuffer {
    fn new(cap: u64) -> Self {
        Self {
            bytes: Vec::new(),
            cap,
            overflowed: false,
        }
    }
}

impl AsyncWrite for CappedBuffer {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if (self.bytes.len() + buf.len()) as u64 > self.cap {
            self.overflowed = true;
            return std::task::Poll::Ready(Err(std::io::Error::other("download too large")));
        }
        self.bytes.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
