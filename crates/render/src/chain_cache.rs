//! Per-chain results kept between render attempts, so a render that was interrupted (a
//! worker killed mid-job) resumes from its last finished chain.
//!
//! Design contract:
//! - A [`ChainCache`] is an optional trait object in
//!   [`RenderOptions`](crate::RenderOptions). The pipeline consults it before rendering a
//!   chain and fills it once the chain is levelled; measuring, evaluation and artifacts
//!   always run on the (cached or fresh) levelled audio, so a resumed render writes the
//!   same files as a clean one.
//! - The [`ChainKey`] covers everything that determines a chain's levelled audio: the
//!   engine and audio-crate versions, the output options, the DI tracks and the chain's
//!   spec with every input path replaced by the file's SHA-256 (paths differ between
//!   attempts, contents decide), and the shared tail length (which depends on every
//!   chain). Any change gives another key, so a stale entry is never used.
//! - The cache is best effort: a failed or undecodable load is a miss, a failed store is
//!   ignored by the engine (the implementation may log it). Loads and stores run on the
//!   render threads, so they may block.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::inputs::InputFile;
use crate::loudness::LevelReport;
use crate::spec::ShootoutSpec;
use crate::versions::{CRATE_VERSIONS, ENGINE_VERSION};

/// Bumped whenever the cached data's meaning or encoding changes.
const FORMAT: &str = "gts-chain-cache-1";
const MAGIC: &[u8; 8] = b"GTSCHAIN";

/// Identifies one chain's levelled output (lower-case hex SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChainKey(pub String);

/// One chain, rendered and levelled.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedChain {
    /// Levelled samples at the output rate (DI + tail).
    pub audio: Vec<f32>,
    /// How it was levelled.
    pub level: LevelReport,
}

/// Where finished chains are kept between attempts.
pub trait ChainCache: Send + Sync {
    /// The chain stored under `key`, if any (`None` on any failure).
    fn load(&self, chain_index: usize, key: &ChainKey) -> Option<CachedChain>;
    /// Keeps a finished chain (best effort).
    fn store(&self, chain_index: usize, key: &ChainKey, chain: &CachedChain);
}

impl std::fmt::Debug for dyn ChainCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainCache")
    }
}

#[derive(Serialize)]
struct KeyMaterial {
    format: &'static str,
    engine: &'static str,
    crates: &'static [(&'static str, &'static str)],
    output: Value,
    di_tracks: Value,
    chain: Value,
    tail_seconds_bits: u64,
}

/// Replaces every string naming an input file with its content hash.
fn by_content(mut value: Value, inputs: &[InputFile]) -> Value {
    fn walk(value: &mut Value, inputs: &[InputFile]) {
        match value {
            Value::String(text) => {
                if let Some(input) = inputs
                    .iter()
                    .find(|i| i.path.to_str() == Some(text.as_str()))
                {
                    *text = format!("sha256:{}", input.sha256);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, inputs)),
            Value::Object(map) => map.values_mut().for_each(|v| walk(v, inputs)),
            _ => {}
        }
    }
    walk(&mut value, inputs);
    value
}

/// The key of chain `index` of `spec`, given the inputs' hashes and the shared tail.
pub fn chain_key(
    spec: &ShootoutSpec,
    index: usize,
    inputs: &[InputFile],
    tail_seconds: f64,
) -> Option<ChainKey> {
    let chain = spec.chains.get(index)?;
    fn json<T: Serialize>(value: &T, inputs: &[InputFile]) -> Option<Value> {
        serde_json::to_value(value)
            .ok()
            .map(|v| by_content(v, inputs))
    }
    let material = KeyMaterial {
        format: FORMAT,
        engine: ENGINE_VERSION,
        crates: CRATE_VERSIONS,
        output: json(&spec.output, inputs)?,
        di_tracks: json(&spec.di_tracks, inputs)?,
        chain: json(chain, inputs)?,
        tail_seconds_bits: tail_seconds.to_bits(),
    };
    let bytes = serde_json::to_vec(&material).ok()?;
    Some(ChainKey(hex::encode(Sha256::digest(&bytes))))
}

impl CachedChain {
    /// `MAGIC`, JSON length (u32 LE), the level report as JSON, sample count (u64 LE), the
    /// samples (f32 LE), then the SHA-256 of everything before it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let level = serde_json::to_vec(&self.level).unwrap_or_default();
        let mut out = Vec::with_capacity(8 + 4 + level.len() + 8 + self.audio.len() * 4 + 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&u32::try_from(level.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&level);
        out.extend_from_slice(&(self.audio.len() as u64).to_le_bytes());
        for sample in &self.audio {
            out.extend_from_slice(&sample.to_le_bytes());
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Decodes [`CachedChain::to_bytes`]; `None` for anything damaged or truncated.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (body, digest) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
        if Sha256::digest(body)[..] != *digest {
            return None;
        }
        let rest = body.strip_prefix(MAGIC.as_slice())?;
        let (len, rest) = rest.split_at_checked(4)?;
        let len = usize::try_from(u32::from_le_bytes(len.try_into().ok()?)).ok()?;
        let (level, rest) = rest.split_at_checked(len)?;
        let level: LevelReport = serde_json::from_slice(level).ok()?;
        let (count, samples) = rest.split_at_checked(8)?;
        let count = usize::try_from(u64::from_le_bytes(count.try_into().ok()?)).ok()?;
        if samples.len() != count.checked_mul(4)? {
            return None;
        }
        let audio = samples
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Some(Self { audio, level })
    }
}

/// The pipeline's view of an optional cache: keys computed once per render.
pub(crate) struct Resume {
    cache: Option<Arc<dyn ChainCache>>,
    keys: Vec<Option<ChainKey>>,
}

impl Resume {
    pub(crate) fn new(
        cache: Option<&Arc<dyn ChainCache>>,
        spec: &ShootoutSpec,
        inputs: &[InputFile],
        tail_seconds: f64,
    ) -> Self {
        let keys = match cache {
            Some(_) => (0..spec.chains.len())
                .map(|index| chain_key(spec, index, inputs, tail_seconds))
                .collect(),
            None => Vec::new(),
        };
        Self {
            cache: cache.cloned(),
            keys,
        }
    }

    fn entry(&self, index: usize) -> Option<(&Arc<dyn ChainCache>, &ChainKey)> {
        self.cache
            .as_ref()
            .zip(self.keys.get(index).and_then(Option::as_ref))
    }

    /// Chain `index` as an earlier attempt left it, if the cache holds it.
    pub(crate) fn load(&self, index: usize) -> Option<CachedChain> {
        let (cache, key) = self.entry(index)?;
        cache.load(index, key)
    }

    /// Keeps a freshly levelled chain for later attempts and hands it back.
    pub(crate) fn store(
        &self,
        index: usize,
        audio: Vec<f32>,
        level: LevelReport,
    ) -> (Vec<f32>, LevelReport) {
        let Some((cache, key)) = self.entry(index) else {
            return (audio, level);
        };
        let chain = CachedChain { audio, level };
        cache.store(index, key, &chain);
        (chain.audio, chain.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn level() -> LevelReport {
        LevelReport {
            input_lufs: -20.0,
            gain_db: 2.5,
            output_lufs: -18.0,
            true_peak_dbtp: -1.2,
            max_limiter_reduction_db: 0.3,
            iterations: 2,
            reached_target: false,
            note: Some("the limiter stopped 0.4 LU short".to_owned()),
        }
    }

    #[test]
    fn cached_chains_round_trip_and_damage_is_a_miss() {
        let chain = CachedChain {
            audio: vec![0.0, -0.5, 0.25, f32::MIN_POSITIVE],
            level: level(),
        };
        let bytes = chain.to_bytes();
        assert_eq!(CachedChain::from_bytes(&bytes), Some(chain));
        for cut in [0, 8, 20, bytes.len() - 1] {
            assert_eq!(CachedChain::from_bytes(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[30] ^= 1;
        assert_eq!(CachedChain::from_bytes(&flipped), None);
    }

    #[test]
    fn keys_follow_contents_not_paths() {
        let spec_at = |dir: &str| -> ShootoutSpec {
            toml::from_str(&format!(
                r#"
                [[di_tracks]]
                path = "{dir}/di.wav"
                [[chains]]
                name = "A"
                [[chains.blocks]]
                kind = "cabinet"
                path = "{dir}/ir.wav"
                [[chains]]
                name = "B"
                "#
            ))
            .unwrap()
        };
        let inputs_at = |dir: &str, ir_hash: &str| {
            vec![
                InputFile {
                    role: "di".into(),
                    path: PathBuf::from(format!("{dir}/di.wav")),
                    sha256: "aa".into(),
                    bytes: 1,
                },
                InputFile {
                    role: "cabinet_ir".into(),
                    path: PathBuf::from(format!("{dir}/ir.wav")),
                    sha256: ir_hash.into(),
                    bytes: 1,
                },
            ]
        };
        let key = |dir: &str, ir: &str, index: usize, tail: f64| {
            chain_key(&spec_at(dir), index, &inputs_at(dir, ir), tail).unwrap()
        };
        // Another scratch directory, same contents: same key.
        assert_eq!(key("/s/1", "bb", 0, 1.0), key("/s/2", "bb", 0, 1.0));
        // Another IR, another chain, another tail: other keys.
        assert_ne!(key("/s/1", "bb", 0, 1.0), key("/s/1", "cc", 0, 1.0));
        assert_ne!(key("/s/1", "bb", 0, 1.0), key("/s/1", "bb", 1, 1.0));
        assert_ne!(key("/s/1", "bb", 0, 1.0), key("/s/1", "bb", 0, 1.5));
        // Other output options: another key.
        let mut louder = spec_at("/s/1");
        louder.output.loudness_target_lufs += 1.0;
        assert_ne!(
            chain_key(&louder, 0, &inputs_at("/s/1", "bb"), 1.0),
            Some(key("/s/1", "bb", 0, 1.0))
        );
        assert_eq!(chain_key(&louder, 7, &inputs_at("/s/1", "bb"), 1.0), None);
    }
}
