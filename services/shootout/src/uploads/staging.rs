//! Staging files of unfinished uploads: positional writes, comparison of repeated bytes,
//! hashing.

use std::{
    io::SeekFrom,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

use crate::error::ShootoutError;

fn io_error(error: std::io::Error) -> ShootoutError {
    ShootoutError::Storage(format!("staging file: {error}"))
}

/// The staging file of upload `id`.
pub fn path(dir: &Path, id: Uuid) -> PathBuf {
    dir.join(id.simple().to_string())
}

/// Creates the (empty) staging file.
pub async fn create(dir: &Path, id: Uuid) -> Result<(), ShootoutError> {
    tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
    tokio::fs::File::create(path(dir, id))
        .await
        .map_err(io_error)?;
    Ok(())
}

/// Whether the stored bytes `[offset, offset + expected.len())` equal `expected`.
pub async fn matches(file: &Path, offset: u64, expected: &[u8]) -> Result<bool, ShootoutError> {
    let mut file = tokio::fs::File::open(file).await.map_err(io_error)?;
    file.seek(SeekFrom::Start(offset)).await.map_err(io_error)?;
    let mut stored = vec![0u8; expected.len()];
    match file.read_exact(&mut stored).await {
        Ok(_) => Ok(stored == expected),
        // Fewer bytes on disk than the row says: treat as different, the caller resends.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(io_error(e)),
    }
}

/// Writes `data` at `offset` and cuts the file there, so stray bytes past it vanish.
pub async fn write_at(file: &Path, offset: u64, data: &[u8]) -> Result<(), ShootoutError> {
    let mut handle = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(file)
        .await
        .map_err(io_error)?;
    handle.set_len(offset).await.map_err(io_error)?;
    handle
        .seek(SeekFrom::Start(offset))
        .await
        .map_err(io_error)?;
    handle.write_all(data).await.map_err(io_error)?;
    handle.sync_data().await.map_err(io_error)?;
    Ok(())
}

/// Bytes in the staging file, or `None` when it is gone (e.g. a lost disk).
pub async fn len(file: &Path) -> Result<Option<u64>, ShootoutError> {
    match tokio::fs::metadata(file).await {
        Ok(meta) => Ok(Some(meta.len())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(e)),
    }
}

/// Lowercase hex SHA-256 of the first `len` bytes of the file, or `None` if it is shorter
/// or gone.
pub async fn sha256(file: &Path, len: u64) -> Result<Option<String>, ShootoutError> {
    let mut handle = match tokio::fs::File::open(file).await {
        Ok(handle) => handle,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(e)),
    };
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut remaining = len;
    while remaining > 0 {
        let want = usize::try_from(remaining.min(buffer.len() as u64)).unwrap_or(buffer.len());
        let Some(slice) = buffer.get_mut(..want) else {
            break;
        };
        let read = handle.read(slice).await.map_err(io_error)?;
        if read == 0 {
            return Ok(None);
        }
        hasher.update(slice.get(..read).unwrap_or_default());
        remaining = remaining.saturating_sub(read as u64);
    }
    Ok(Some(hex::encode(hasher.finalize())))
}

/// Removes a staging file; a missing one is fine.
pub async fn remove(dir: &Path, id: Uuid) {
    if let Err(error) = tokio::fs::remove_file(path(dir, id)).await
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(%error, upload = %id, "cannot remove a staging file");
    }
}
