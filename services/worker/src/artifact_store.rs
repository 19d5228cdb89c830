//! Where artifacts are stored: the [`ArtifactStore`] seam, a local-directory store, and the
//! job-scoped writer renderers use.
//!
//! Contract: a job's artifacts live under `jobs/<job id>/<filename>`. The key depends only
//! on the job and the file name, so a re-run (retry, or another worker after a lost lease)
//! overwrites the same keys and nothing is duplicated. Cancelling a running job removes
//! everything under its prefix. Production stores in the object store
//! ([`gts_storage::BlobStore`]); tests may use [`crate::testing::MemoryArtifactStore`]; both
//! pass the same conformance test.

use std::path::Path;

use gts_proto::v1::ArtifactKind;
use gts_storage::FileDigest;
use uuid::Uuid;

/// An artifact store failure (always worth a retry).
#[derive(Debug, thiserror::Error)]
#[error("artifact store: {0}")]
pub struct StoreError(pub String);

/// A blob store for artifacts.
#[tonic::async_trait]
pub trait ArtifactStore: Send + Sync + 'static {
    /// Stores (or overwrites) `key`.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError>;
    /// Stores (or overwrites) `key` with the content of a local file, in bounded memory;
    /// answers the SHA-256 and size of what it stored.
    async fn put_file(&self, key: &str, path: &Path) -> Result<FileDigest, StoreError>;
    /// Removes every key starting with `prefix` (a `.../` directory-like prefix).
    async fn remove_prefix(&self, prefix: &str) -> Result<(), StoreError>;
    /// The keys starting with `prefix`, sorted (for checks and clean-up).
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
}

/// The key prefix of a job's artifacts.
pub fn job_prefix(job_id: Uuid) -> String {
    format!("jobs/{job_id}/")
}

/// A stored artifact, as the renderer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredArtifact {
    pub kind: ArtifactKind,
    pub chain_index: Option<u32>,
    pub filename: String,
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
}

/// Why a file name is refused.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("artifact file name {0:?} is not a plain file name")]
    BadFilename(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes one job's artifacts.
#[derive(Clone)]
pub struct JobArtifacts {
    store: std::sync::Arc<dyn ArtifactStore>,
    job_id: Uuid,
}

impl JobArtifacts {
    /// A writer for `job_id`.
    pub fn new(store: std::sync::Arc<dyn ArtifactStore>, job_id: Uuid) -> Self {
        Self { store, job_id }
    }

    /// Stores one file and describes it.
    pub async fn put(
        &self,
        kind: ArtifactKind,
        chain_index: Option<u32>,
        filename: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<StoredArtifact, ArtifactError> {
        let object_key = self.key_of(filename)?;
        let sha256 = gts_storage::sha256_hex(&bytes);
        let size_bytes = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.store.put(&object_key, bytes).await?;
        Ok(StoredArtifact {
            kind,
            chain_index,
            filename: filename.to_owned(),
            object_key,
            content_type: content_type.to_owned(),
            size_bytes,
            sha256,
        })
    }

    /// Stores one local file (hashed while streamed) and describes it.
    pub async fn put_file(
        &self,
        kind: ArtifactKind,
        chain_index: Option<u32>,
        filename: &str,
        content_type: &str,
        path: &Path,
    ) -> Result<StoredArtifact, ArtifactError> {
        let object_key = self.key_of(filename)?;
        let FileDigest { sha256, size_bytes } = self.store.put_file(&object_key, path).await?;
        Ok(StoredArtifact {
            kind,
            chain_index,
            filename: filename.to_owned(),
            object_key,
            content_type: content_type.to_owned(),
            size_bytes,
            sha256,
        })
    }

    /// The object key of `filename` in this job, if it is a plain file name.
    fn key_of(&self, filename: &str) -> Result<String, ArtifactError> {
        if is_plain_filename(filename) {
            Ok(format!("{}{filename}", job_prefix(self.job_id)))
        } else {
            Err(ArtifactError::BadFilename(filename.to_owned()))
        }
    }

    /// Removes every artifact of the job (after a cancellation).
    pub async fn remove_all(&self) -> Result<(), StoreError> {
        self.store.remove_prefix(&job_prefix(self.job_id)).await
    }
}

fn is_plain_filename(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The object store (`gts-storage`: a local directory or S3, by configuration).
#[tonic::async_trait]
impl ArtifactStore for gts_storage::BlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.put_bytes(key, bytes.into()).await.map_err(store_error)
    }

    async fn put_file(&self, key: &str, path: &Path) -> Result<FileDigest, StoreError> {
        gts_storage::BlobStore::put_file(self, key, path)
            .await
            .map_err(store_error)
    }

    async fn remove_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        self.delete_prefix(prefix).await.map_err(store_error)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        gts_storage::BlobStore::list(self, prefix)
            .await
            .map_err(store_error)
    }
}

fn store_error(error: gts_storage::StorageError) -> StoreError {
    StoreError(error.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use super::*;
    use crate::testing::MemoryArtifactStore;

    /// The contract every [`ArtifactStore`] keeps.
    async fn overwrites_lists_and_removes_by_job(store: Arc<dyn ArtifactStore>) {
        let job = Uuid::new_v4();
        let other = Uuid::new_v4();
        let writer = JobArtifacts::new(store.clone(), job);
        writer
            .put(
                ArtifactKind::AbFlac,
                None,
                "ab.flac",
                "audio/flac",
                b"one".to_vec(),
            )
            .await
            .unwrap();
        let second = writer
            .put(
                ArtifactKind::AbFlac,
                None,
                "ab.flac",
                "audio/flac",
                b"two!".to_vec(),
            )
            .await
            .unwrap();
        assert_eq!(second.size_bytes, 4);
        assert_eq!(second.object_key, format!("jobs/{job}/ab.flac"));
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"plot").unwrap();
        let plot = writer
            .put_file(
                ArtifactKind::SpectrumPlot,
                None,
                "spectrum.png",
                "image/png",
                file.path(),
            )
            .await
            .unwrap();
        assert_eq!(plot.size_bytes, 4);
        assert_eq!(plot.sha256, gts_storage::sha256_hex(b"plot"));
        JobArtifacts::new(store.clone(), other)
            .put(ArtifactKind::AbFlac, None, "ab.flac", "audio/flac", vec![1])
            .await
            .unwrap();
        assert_eq!(
            store.list(&job_prefix(job)).await.unwrap(),
            vec![second.object_key.clone(), plot.object_key.clone()]
        );
        for hostile in ["../x", "a/b", "", ".."] {
            assert!(
                writer
                    .put(ArtifactKind::AbFlac, None, hostile, "audio/flac", vec![])
                    .await
                    .is_err(),
                "{hostile:?}"
            );
        }
        writer.remove_all().await.unwrap();
        assert!(store.list(&job_prefix(job)).await.unwrap().is_empty());
        assert_eq!(store.list(&job_prefix(other)).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn the_object_store_and_the_memory_double_keep_the_same_contract() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = gts_storage::BlobStore::open(&gts_storage::StorageSettings::Local {
            root: dir.path().to_path_buf(),
        })
        .unwrap();
        overwrites_lists_and_removes_by_job(Arc::new(blobs)).await;
        overwrites_lists_and_removes_by_job(Arc::new(MemoryArtifactStore::default())).await;
    }
}
