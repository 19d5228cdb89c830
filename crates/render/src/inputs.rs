//! The render's input files and their hashes.
//!
//! Contract: every file a spec names (DI tracks, NAM models, cabinet IRs) is hashed
//! (SHA-256 and size) before any audio is processed, in spec order, so a manifest can
//! name exactly what a render heard and refuse a re-render when a file changed.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{RenderError, Result};
use crate::spec::{Block, ShootoutSpec};

/// One input file and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// `di`, `nam` or `cabinet_ir`.
    pub role: String,
    /// Path as used.
    pub path: PathBuf,
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// SHA-256 and size of a file.
pub fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut file = std::fs::File::open(path).map_err(|e| RenderError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|e| RenderError::io(path, e))?;
        if read == 0 {
            break;
        }
        total += read as u64;
        hasher.update(buffer.get(..read).unwrap_or_default());
    }
    Ok((hex::encode(hasher.finalize()), total))
}

/// Hashes every input the spec names.
pub fn hash_inputs(spec: &ShootoutSpec) -> Result<Vec<InputFile>> {
    let mut files: Vec<(String, PathBuf)> = spec
        .di_tracks
        .iter()
        .map(|d| ("di".to_string(), d.path.clone()))
        .collect();
    for chain in &spec.chains {
        for block in &chain.blocks {
            match block {
                Block::Nam { path, .. } => files.push(("nam".into(), path.clone())),
                Block::Cabinet { path, .. } => files.push(("cabinet_ir".into(), path.clone())),
                _ => {}
            }
        }
    }
    files
        .into_iter()
        .map(|(role, path)| {
            let (sha256, bytes) = hash_file(&path)?;
            Ok(InputFile {
                role,
                path,
                sha256,
                bytes,
            })
        })
        .collect()
}
