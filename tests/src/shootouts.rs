//! Building shootouts as a signed-in browser does: synthesised DI tracks, chunked uploads
//! over grpc-web, the workspace's fixture models and IRs, blocks and chains.

use gts_proto::v1::{
    Asset, AssetKind, BeginUploadRequest, Block, CabinetIrBlock, FinishUploadRequest, ModelSource,
    NamModelBlock, PutChunkRequest, SignalChain, Tone3000ModelRef, block::Kind,
    model_source::Source, upload_service_client::UploadServiceClient,
};

use crate::{Stack, clients, with_bearer};

/// A 16-bit mono WAV of decaying plucks (three notes, two per second).
pub fn plucked_wav(seconds: f64, rate: u32) -> Vec<u8> {
    let frames = (seconds * f64::from(rate)) as u32;
    let mut pcm = Vec::with_capacity(frames as usize * 2);
    for i in 0..frames {
        let t = f64::from(i % (rate / 2)) / f64::from(rate);
        let note = [110.0, 146.83, 196.0][(i / (rate / 2)) as usize % 3];
        let value = (2.0 * std::f64::consts::PI * note * t).sin() * (-6.0 * t).exp() * 0.6;
        pcm.extend_from_slice(&((value * 32767.0) as i16).to_le_bytes());
    }
    let mut wav = Vec::with_capacity(44 + pcm.len());
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + pcm.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(pcm.len() as u32).to_le_bytes());
    wav.extend_from_slice(&pcm);
    wav
}

/// A file of the workspace's `tests/fixtures`.
pub fn fixture(relative: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Uploads `bytes` in the service's chunk size through the gateway and finishes it.
pub async fn upload(
    stack: &Stack,
    token: &str,
    kind: AssetKind,
    name: &str,
    bytes: &[u8],
) -> Asset {
    let mut client = UploadServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin());
    let upload = client
        .begin_upload(with_bearer(
            BeginUploadRequest {
                kind: kind as i32,
                filename: name.into(),
                size_bytes: bytes.len() as u64,
                sha256: gts_shootout::sha256_hex(bytes),
            },
            token,
        ))
        .await
        .expect("BeginUpload")
        .into_inner()
        .upload
        .expect("an upload");
    let chunk = upload.max_chunk_bytes as usize;
    for (i, data) in bytes.chunks(chunk).enumerate() {
        client
            .put_chunk(with_bearer(
                PutChunkRequest {
                    upload_id: upload.upload_id.clone(),
                    offset: (i * chunk) as u64,
                    data: data.to_vec(),
                },
                token,
            ))
            .await
            .expect("PutChunk");
    }
    client
        .finish_upload(with_bearer(
            FinishUploadRequest {
                upload_id: upload.upload_id,
            },
            token,
        ))
        .await
        .expect("FinishUpload")
        .into_inner()
        .asset
        .expect("an asset")
}

/// A TONE3000 library model.
pub fn library(tone_id: u64, model_id: u64) -> Source {
    Source::Tone3000Model(Tone3000ModelRef { tone_id, model_id })
}

/// An uploaded asset.
pub fn asset(asset: &Asset) -> Source {
    Source::AssetId(asset.id.clone())
}

/// A NAM block.
pub fn nam(source: Source) -> Block {
    block(Kind::NamModel(NamModelBlock {
        source: Some(ModelSource {
            source: Some(source),
        }),
        input_gain_db: 0.0,
    }))
}

/// A cabinet IR block.
pub fn cabinet(source: Source) -> Block {
    block(Kind::CabinetIr(CabinetIrBlock {
        source: Some(ModelSource {
            source: Some(source),
        }),
        mix: None,
    }))
}

/// A block of `kind` (ids are assigned by the server).
pub fn block(kind: Kind) -> Block {
    Block {
        id: String::new(),
        kind: Some(kind),
    }
}

/// A chain named `name` with `blocks`.
pub fn chain(name: &str, blocks: Vec<Block>) -> SignalChain {
    SignalChain {
        id: String::new(),
        display_name: name.into(),
        description: String::new(),
        blocks,
        input_high_pass_hz: None,
    }
}
