//! gts-storage: the GTS object store, where uploaded files and rendered artifacts live.
//!
//! Design contract:
//! - One interface, [`BlobStore`], over the local filesystem (the default, a directory)
//!   or any S3-compatible store (AWS S3, MinIO, R2, ...), chosen by configuration
//!   ([`StorageSettings::from_env`]); callers never see which.
//! - Blobs are content-addressed: [`content_key`] derives the key from the SHA-256 of the
//!   bytes, so identical files are stored once, a key never changes meaning, and a reader
//!   can verify what it fetched ([`BlobStore::get_verified`]).
//! - Large files are written in parts from a local file, so memory stays bounded.
//! - Errors carry the backend's text for the operator's log; services map them to a generic
//!   UNAVAILABLE for clients.

#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::{path::Path, sync::Arc};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream::BoxStream};
use gts_config::{ConfigError, Env};
use object_store::{
    ObjectStore, PutPayload, WriteMultipart, aws::AmazonS3Builder, local::LocalFileSystem,
    path::Path as ObjectPath,
};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// Size of the parts a file is uploaded in.
const PART_BYTES: usize = 8 * 1024 * 1024;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No blob under that key.
    #[error("no object at {0}")]
    NotFound(String),
    /// The fetched bytes do not hash to the expected SHA-256.
    #[error("object {key} is corrupt: expected sha256 {expected}, got {actual}")]
    Corrupt {
        key: String,
        expected: String,
        actual: String,
    },
    /// The backend failed.
    #[error("object store error: {0}")]
    Backend(String),
    /// A local file could not be read or written.
    #[error("local file error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<object_store::Error> for StorageError {
    fn from(error: object_store::Error) -> Self {
        match error {
            object_store::Error::NotFound { path, .. } => Self::NotFound(path),
            other => Self::Backend(other.to_string()),
        }
    }
}

/// What [`BlobStore::put_file`] wrote: its lowercase hex SHA-256 and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub sha256: String,
    pub size_bytes: u64,
}

/// Where blobs are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageSettings {
    /// A local directory (`GTS_STORAGE_BACKEND=local`, `GTS_STORAGE_DIR`, default
    /// `<temp>/gts/blobs`).
    Local { root: std::path::PathBuf },
    /// An S3-compatible bucket (`GTS_STORAGE_BACKEND=s3`).
    S3(S3Settings),
}

/// An S3-compatible bucket.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// `GTS_S3_BUCKET` (required).
    pub bucket: String,
    /// `GTS_S3_ENDPOINT`: the store's URL for non-AWS stores (MinIO, R2); unset for AWS.
    pub endpoint: Option<String>,
    /// `GTS_S3_REGION`, default `us-east-1`.
    pub region: String,
    /// `GTS_S3_ACCESS_KEY_ID` / `GTS_S3_SECRET_ACCESS_KEY`; unset uses the standard AWS
    /// credential chain (environment, instance profile).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// `GTS_S3_ALLOW_HTTP`, default false (true for a local MinIO).
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

impl StorageSettings {
    /// Reads the `GTS_STORAGE_*` / `GTS_S3_*` variables.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let backend: String = env.or("GTS_STORAGE_BACKEND", "local".to_owned())?;
        match backend.as_str() {
            // The default keeps blobs out of whatever directory the process starts in;
            // anything that must persist sets GTS_STORAGE_DIR (or uses s3).
            "local" => Ok(Self::Local {
                root: env
                    .or(
                        "GTS_STORAGE_DIR",
                        default_dir("blobs").to_string_lossy().into_owned(),
                    )?
                    .into(),
            }),
            "s3" => Ok(Self::S3(S3Settings {
                bucket: env.required("GTS_S3_BUCKET", "the bucket blobs are stored in")?,
                endpoint: env.optional("GTS_S3_ENDPOINT")?,
                region: env.or("GTS_S3_REGION", "us-east-1".to_owned())?,
                access_key_id: env.optional("GTS_S3_ACCESS_KEY_ID")?,
                secret_access_key: env.optional("GTS_S3_SECRET_ACCESS_KEY")?,
                allow_http: env.or("GTS_S3_ALLOW_HTTP", false)?,
            })),
            other => Err(ConfigError::Invalid {
                var: "GTS_STORAGE_BACKEND".into(),
                value: other.into(),
                reason: "expected local or s3".into(),
            }),
        }
    }
}

/// `<system temp dir>/gts/<name>`: where local data goes when no directory is configured.
pub fn default_dir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join("gts").join(name)
}

/// The key of a blob whose bytes hash to `sha256_hex` (lowercase hex).
pub fn content_key(sha256_hex: &str) -> String {
    let prefix = sha256_hex.get(..2).unwrap_or("00");
    format!("blobs/sha256/{prefix}/{sha256_hex}")
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The object store.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobStore({})", self.store)
    }
}

impl BlobStore {
    /// Opens the configured store (creating the local directory if needed).
    pub fn open(settings: &StorageSettings) -> Result<Self, StorageError> {
        let store: Arc<dyn ObjectStore> = match settings {
            StorageSettings::Local { root } => {
                std::fs::create_dir_all(root)?;
                Arc::new(LocalFileSystem::new_with_prefix(root)?)
            }
            StorageSettings::S3(s3) => {
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                Arc::new(builder.build()?)
            }
        };
        Ok(Self { store })
    }

    /// A store over any `object_store` implementation (tests use the in-memory one).
    pub fn from_object_store(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// Writes `bytes` under `key`.
    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&ObjectPath::from(key), PutPayload::from_bytes(bytes))
            .await?;
        Ok(())
    }

    /// Streams the local file at `path` to `key` in parts.
    /// Answers the SHA-256 and size of what was written, hashed on the way.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<FileDigest, StorageError> {
        let mut file = tokio::fs::File::open(path).await?;
        let mut hasher = Sha256::new();
        let mut size_bytes = 0u64;
        let upload = self.store.put_multipart(&ObjectPath::from(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buffer = vec![0u8; 1024 * 1024];
        loop {
            let read = match file.read(&mut buffer).await {
                Ok(read) => read,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(error.into());
                }
            };
            if read == 0 {
                break;
            }
            let chunk = buffer.get(..read).unwrap_or_default();
            hasher.update(chunk);
            size_bytes += read as u64;
            writer.wait_for_capacity(4).await?;
            writer.write(chunk);
        }
        writer.finish().await?;
        Ok(FileDigest {
            sha256: hex::encode(hasher.finalize()),
            size_bytes,
        })
    }

    /// Whether a blob exists under `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self.store.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Reads a whole blob.
    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        Ok(self
            .store
            .get(&ObjectPath::from(key))
            .await?
            .bytes()
            .await?)
    }

    /// Reads a whole blob and checks it hashes to `sha256_hex`.
    pub async fn get_verified(&self, key: &str, sha256: &str) -> Result<Bytes, StorageError> {
        let bytes = self.get(key).await?;
        let actual = sha256_hex(&bytes);
        if actual == sha256 {
            Ok(bytes)
        } else {
            Err(StorageError::Corrupt {
                key: key.to_owned(),
                expected: sha256.to_owned(),
                actual,
            })
        }
    }

    /// Streams the blob under `key` into the local file `path`, checking that it hashes to
    /// `sha256`; memory stays bounded whatever the size. On a mismatch the file is removed
    /// and the answer is [`StorageError::Corrupt`]. Answers the number of bytes written.
    pub async fn download_verified(
        &self,
        key: &str,
        sha256: &str,
        path: &Path,
    ) -> Result<u64, StorageError> {
        use tokio::io::AsyncWriteExt;
        let mut stream = self.store.get(&ObjectPath::from(key)).await?.into_stream();
        let mut file = tokio::fs::File::create(path).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        let actual = hex::encode(hasher.finalize());
        if actual == sha256 {
            Ok(size)
        } else {
            let _ = tokio::fs::remove_file(path).await;
            Err(StorageError::Corrupt {
                key: key.to_owned(),
                expected: sha256.to_owned(),
                actual,
            })
        }
    }

    /// Deletes a blob; deleting a missing blob succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// The keys under `prefix` (a `/`-separated directory-like prefix), sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let prefix = ObjectPath::from(prefix.trim_end_matches('/'));
        let mut keys: Vec<String> = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await?;
        keys.sort();
        Ok(keys)
    }

    /// Deletes every blob under `prefix`.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        for key in self.list(prefix).await? {
            self.delete(&key).await?;
        }
        Ok(())
    }

    /// The size of the blob under `key`.
    pub async fn size(&self, key: &str) -> Result<u64, StorageError> {
        Ok(self.store.head(&ObjectPath::from(key)).await?.size)
    }

    /// Streams the bytes `range` (end exclusive) of the blob under `key`, in the store's
    /// own chunks, so a download never holds the whole blob in memory.
    pub async fn stream_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, StorageError>>, StorageError> {
        let options = object_store::GetOptions {
            range: Some(object_store::GetRange::Bounded(range)),
            ..Default::default()
        };
        let result = self.store.get_opts(&ObjectPath::from(key), options).await?;
        Ok(result.into_stream().map_err(StorageError::from).boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_content_addressed() {
        let sha = sha256_hex(b"hello");
        assert_eq!(
            content_key(&sha),
            format!("blobs/sha256/{}/{sha}", &sha[..2])
        );
        assert_eq!(content_key(""), "blobs/sha256/00/");
    }

    #[test]
    fn settings_default_to_a_local_directory_and_s3_needs_a_bucket() {
        let local = StorageSettings::from_env(&Env::default()).unwrap();
        assert!(matches!(local, StorageSettings::Local { .. }));
        let err = StorageSettings::from_env(&Env::from_pairs([("GTS_STORAGE_BACKEND", "s3")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("GTS_S3_BUCKET"), "{err}");
        let s3 = StorageSettings::from_env(&Env::from_pairs([
            ("GTS_STORAGE_BACKEND", "s3"),
            ("GTS_S3_BUCKET", "gts"),
            ("GTS_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("GTS_S3_SECRET_ACCESS_KEY", "hunter2"),
        ]))
        .unwrap();
        assert!(!format!("{s3:?}").contains("hunter2"));
        assert!(BlobStore::open(&s3).is_ok());
        assert!(
            StorageSettings::from_env(&Env::from_pairs([("GTS_STORAGE_BACKEND", "ftp")])).is_err()
        );
    }

    #[tokio::test]
    async fn local_store_round_trips_files_and_verifies_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&StorageSettings::Local {
            root: dir.path().join("blobs"),
        })
        .unwrap();
        // Bigger than one part, so the multipart path is exercised.
        let data: Vec<u8> = (0..(PART_BYTES + 12345)).map(|i| (i % 251) as u8).collect();
        let source = dir.path().join("source.bin");
        std::fs::write(&source, &data).unwrap();
        let sha = sha256_hex(&data);
        let key = content_key(&sha);
        assert!(!store.exists(&key).await.unwrap());
        let digest = store.put_file(&key, &source).await.unwrap();
        assert_eq!(
            digest,
            FileDigest {
                sha256: sha.clone(),
                size_bytes: data.len() as u64
            }
        );
        assert!(store.exists(&key).await.unwrap());
        assert_eq!(
            store.get_verified(&key, &sha).await.unwrap().as_ref(),
            &data[..]
        );
        let wrong = sha256_hex(b"other");
        assert!(matches!(
            store.get_verified(&key, &wrong).await,
            Err(StorageError::Corrupt { .. })
        ));
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert!(matches!(
            store.get(&key).await,
            Err(StorageError::NotFound(_))
        ));
    }

    /// One conformance check run against every backend this machine can reach.
    async fn lists_deletes_by_prefix_and_streams_ranges(store: BlobStore) {
        for key in ["jobs/a/one.flac", "jobs/a/two.png", "jobs/ab/three.json"] {
            store
                .put_bytes(key, Bytes::from_static(b"0123456789"))
                .await
                .unwrap();
        }
        assert_eq!(
            store.list("jobs/a/").await.unwrap(),
            vec!["jobs/a/one.flac", "jobs/a/two.png"],
            "a prefix is a directory, not a string prefix"
        );
        assert_eq!(store.size("jobs/a/one.flac").await.unwrap(), 10);
        let streamed: Vec<Bytes> = store
            .stream_range("jobs/a/one.flac", 2..7)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(streamed.concat(), b"23456");
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy");
        let written = store
            .download_verified("jobs/a/one.flac", &sha256_hex(b"0123456789"), &copy)
            .await
            .unwrap();
        assert_eq!(
            (written, std::fs::read(&copy).unwrap()),
            (10, b"0123456789".to_vec())
        );
        assert!(matches!(
            store
                .download_verified("jobs/a/one.flac", &sha256_hex(b"x"), &copy)
                .await,
            Err(StorageError::Corrupt { .. })
        ));
        assert!(!copy.exists(), "a corrupt download leaves no file");
        store.delete_prefix("jobs/a/").await.unwrap();
        assert!(store.list("jobs/a/").await.unwrap().is_empty());
        assert_eq!(store.list("jobs/ab").await.unwrap().len(), 1);
        assert!(matches!(
            store.size("jobs/a/one.flac").await,
            Err(StorageError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn the_local_and_in_memory_backends_behave_alike() {
        let dir = tempfile::tempdir().unwrap();
        let local = BlobStore::open(&StorageSettings::Local {
            root: dir.path().to_path_buf(),
        })
        .unwrap();
        lists_deletes_by_prefix_and_streams_ranges(local).await;
        let memory = BlobStore::from_object_store(Arc::new(object_store::memory::InMemory::new()));
        lists_deletes_by_prefix_and_streams_ranges(memory).await;
    }
}
