//! Compiles `gts/v1/*.proto` with protox (pure Rust, no system `protoc`), writes the
//! file descriptor set to `OUT_DIR/gts_descriptor.bin` for server reflection, and
//! generates prost messages plus tonic clients and servers from that same set.

use std::path::PathBuf;

use prost::Message;

const PROTO_ROOT: &str = "gts/v1";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");

    let mut protos: Vec<PathBuf> = std::fs::read_dir(PROTO_ROOT)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    // Sorted so the descriptor set is byte-identical from build to build.
    protos.sort();
    for proto in &protos {
        println!("cargo:rerun-if-changed={}", proto.display());
    }

    // Include root is the crate directory, so files are named `gts/v1/x.proto`.
    let fds = protox::compile(&protos, ["."])?;

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("gts_descriptor.bin"), fds.encode_to_vec())?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // No default bodies: a new RPC must be implemented (the compiler says where) rather
        // than answering UNIMPLEMENTED unnoticed.
        .generate_default_stubs(false)
        // prost with small encode buffers: see src/codec.rs.
        .codec_path("crate::codec::LeanCodec")
        .compile_fds(fds)?;
    Ok(())
}
