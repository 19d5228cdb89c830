//! Where artifacts are stored: the [`ArtifactStore`] seam, a local-directory store, and the
//! job-scoped writer renderers use.
//!
//! Contract: a job's artifacts live under `jobs/<job id>/<filename>`. The key depends only
//! on the job and the file name, so a re-run (retry, or another worker after a lost lease)
//! overwrites the same keys and nothing is duplicated. Cancelling a running job removes
//! everything under its prefix. The object-store integration implements [`ArtifactStore`];
//! [`FsArtifactStore`] is the local stand-in (writes are atomic renames).

use std::path::{Path, PathBuf};

use gts_proto::v1::ArtifactKind;
use sha2::{Digest, Sha256};
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
        if !is_plain_filename(filename) {
            return Err(ArtifactError::BadFilename(filename.to_owned()));
        }
        let object_key = format!("{}{filename}", job_prefix(self.job_id));
        let sha256 = hex::encode(Sha256::digest(&bytes));
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

/// Artifacts in a local directory (`GTS_WORKER_ARTIFACT_DIR`).
pub struct FsArtifactStore {
    root: PathBuf,
}

impl FsArtifactStore {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        let mut path = self.root.clone();
        for segment in key.split('/').filter(|segment| !segment.is_empty()) {
            if segment == "." || segment == ".." || segment.contains('\\') {
                return Err(StoreError(format!("invalid key {key:?}")));
            }
            path.push(segment);
        }
        Ok(path)
    }
}

fn io_error(action: &str, path: &Path, error: std::io::Error) -> StoreError {
    StoreError(format!("cannot {action} {}: {error}", path.display()))
}

#[tonic::async_trait]
impl ArtifactStore for FsArtifactStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        let parent = path
            .parent()
            .ok_or_else(|| StoreError(format!("invalid key {key:?}")))?
            .to_path_buf();
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(|e| io_error("create", &parent, e))?;
        let temporary = parent.join(format!(".{}.partial", Uuid::new_v4().simple()));
        tokio::fs::write(&temporary, bytes)
            .await
            .map_err(|e| io_error("write", &temporary, e))?;
        tokio::fs::rename(&temporary, &path)
            .await
            .map_err(|e| io_error("rename", &path, e))
    }

    async fn remove_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        let path = self.path_of(prefix)?;
        match tokio::fs::remove_dir_all(&path).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(io_error("remove", &path, error)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let path = self.path_of(prefix)?;
        let mut keys = Vec::new();
        let mut entries = match tokio::fs::read_dir(&path).await {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(keys),
            Err(error) => return Err(io_error("list", &path, error)),
        };
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|e| io_error("list", &path, e))?
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                keys.push(format!("{}/{name}", prefix.trim_end_matches('/')));
            }
        }
        keys.sort();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn files_overwrite_and_are_removed_by_prefix() {
        let dir = std::env::temp_dir().join(format!("gts-artifacts-{}", Uuid::new_v4().simple()));
        let store: Arc<dyn ArtifactStore> = Arc::new(FsArtifactStore::new(&dir));
        let job = Uuid::new_v4();
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
        assert_eq!(
            store.list(&job_prefix(job)).await.unwrap(),
            vec![second.object_key.clone()]
        );
        assert!(
            writer
                .put(ArtifactKind::AbFlac, None, "../x", "audio/flac", vec![])
                .await
                .is_err()
        );
        writer.remove_all().await.unwrap();
        assert!(store.list(&job_prefix(job)).await.unwrap().is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}
