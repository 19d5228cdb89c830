//! Checks the contract's conventions on the compiled descriptor set, so a change to a
//! `.proto` file that breaks one fails `cargo test` instead of a reviewer's eye.

// Tests may unwrap: a panic here is a failed assertion.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashSet};

use prost::Message;
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto, FileDescriptorSet};

use crate::{FILE_DESCRIPTOR_SET, INTERNAL_SERVICES, PUBLIC_SERVICES, v1};

const PACKAGE: &str = "gts.v1";

/// Every service and its RPCs, exactly as other crates code against them.
const EXPECTED_SERVICES: &[(&str, &[&str])] = &[
    (
        "AuthService",
        &[
            "StartLogin",
            "CompleteLogin",
            "Refresh",
            "Logout",
            "LogoutAll",
            "GetMe",
        ],
    ),
    ("AuthInternal", &["GetTone3000AccessToken", "GetPublicKeys"]),
    (
        "ShootoutService",
        &[
            "CreateShootout",
            "GetShootout",
            "ListShootouts",
            "UpdateShootout",
            "DeleteShootout",
            "AddChain",
            "UpdateChain",
            "RemoveChain",
            "ReorderChains",
            "AddBlock",
            "UpdateBlock",
            "RemoveBlock",
            "ReorderBlocks",
        ],
    ),
    ("ShootoutInternal", &["GetRenderSpec"]),
    (
        "UploadService",
        &[
            "BeginUpload",
            "PutChunk",
            "GetUpload",
            "FinishUpload",
            "AbortUpload",
        ],
    ),
    ("AssetService", &["ListAssets", "GetAsset", "DeleteAsset"]),
    (
        "LibraryService",
        &[
            "SearchTones",
            "ListCreatedTones",
            "ListFavoriteTones",
            "GetTone",
            "ListModels",
        ],
    ),
    (
        "JobService",
        &[
            "SubmitJob",
            "GetJob",
            "ListJobs",
            "CancelJob",
            "WatchJob",
            "ListArtifacts",
            "GetArtifactUrl",
            "ShareJob",
            "UnshareJob",
            "GetSharedResult",
            "GetSharedArtifactUrl",
        ],
    ),
    ("OpsInternal", &["Ping"]),
];

fn descriptor_set() -> FileDescriptorSet {
    FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap()
}

/// The files of our own package (the set also holds the imported well-known types).
fn gts_files() -> Vec<FileDescriptorProto> {
    descriptor_set()
        .file
        .into_iter()
        .filter(|file| file.package() == PACKAGE)
        .collect()
}

#[test]
fn every_proto_file_is_in_the_set_and_in_package_gts_v1() {
    let names: BTreeSet<String> = gts_files().iter().map(|f| f.name().to_owned()).collect();
    let expected: BTreeSet<String> = [
        "auth", "common", "job", "library", "ops", "shootout", "upload",
    ]
    .iter()
    .map(|stem| format!("gts/v1/{stem}.proto"))
    .collect();
    assert_eq!(names, expected);
}

#[test]
fn every_expected_service_exists_with_exactly_its_rpcs() {
    let actual: BTreeMap<String, Vec<String>> = gts_files()
        .iter()
        .flat_map(|file| file.service.iter())
        .map(|service| {
            let methods = service.method.iter().map(|m| m.name().to_owned()).collect();
            (service.name().to_owned(), methods)
        })
        .collect();
    let expected: BTreeMap<String, Vec<String>> = EXPECTED_SERVICES
        .iter()
        .map(|(service, rpcs)| {
            let rpcs = rpcs.iter().map(|rpc| (*rpc).to_owned()).collect();
            ((*service).to_owned(), rpcs)
        })
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn public_and_internal_lists_partition_the_services() {
    let public: BTreeSet<&str> = PUBLIC_SERVICES.iter().copied().collect();
    let internal: BTreeSet<&str> = INTERNAL_SERVICES.iter().copied().collect();
    assert_eq!(public.len(), PUBLIC_SERVICES.len(), "duplicate public name");
    assert_eq!(
        internal.len(),
        INTERNAL_SERVICES.len(),
        "duplicate internal name"
    );
    assert!(public.is_disjoint(&internal));

    let listed: BTreeSet<String> = public.union(&internal).map(|s| (*s).to_owned()).collect();
    let declared: BTreeSet<String> = gts_files()
        .iter()
        .flat_map(|file| file.service.iter())
        .map(|service| format!("{PACKAGE}.{}", service.name()))
        .collect();
    assert_eq!(listed, declared);
    for name in &internal {
        assert!(
            name.ends_with("Internal"),
            "{name} should be named *Internal"
        );
    }
}

#[test]
fn generated_service_names_match_the_lists() {
    let generated = [
        v1::auth_service_server::SERVICE_NAME,
        v1::shootout_service_server::SERVICE_NAME,
        v1::upload_service_server::SERVICE_NAME,
        v1::asset_service_server::SERVICE_NAME,
        v1::library_service_server::SERVICE_NAME,
        v1::job_service_server::SERVICE_NAME,
        v1::auth_internal_server::SERVICE_NAME,
        v1::shootout_internal_server::SERVICE_NAME,
        v1::ops_internal_server::SERVICE_NAME,
    ];
    let listed: Vec<&str> = PUBLIC_SERVICES
        .iter()
        .chain(INTERNAL_SERVICES)
        .copied()
        .collect();
    assert_eq!(generated.as_slice(), listed.as_slice());
}

#[test]
fn every_rpc_has_its_own_request_and_response_named_after_it() {
    let mut seen = HashSet::new();
    for file in gts_files() {
        for service in &file.service {
            for method in &service.method {
                let rpc = method.name();
                let request = format!(".{PACKAGE}.{rpc}Request");
                let response = format!(".{PACKAGE}.{rpc}Response");
                assert_eq!(method.input_type(), request, "input of {rpc}");
                assert_eq!(method.output_type(), response, "output of {rpc}");
                assert!(seen.insert(request), "{rpc}Request used twice");
                assert!(seen.insert(response), "{rpc}Response used twice");
            }
        }
    }
    // Request/Response messages exist only for RPCs: none is left over or shared.
    for file in gts_files() {
        for message in &file.message_type {
            let name = message.name();
            if name.ends_with("Request") || name.ends_with("Response") {
                assert!(
                    seen.contains(&format!(".{PACKAGE}.{name}")),
                    "{name} belongs to no RPC"
                );
            }
        }
    }
}

#[test]
fn only_watch_job_streams_and_only_from_the_server() {
    let streaming: Vec<(String, bool, bool)> = gts_files()
        .iter()
        .flat_map(|file| file.service.iter())
        .flat_map(|service| service.method.iter())
        .filter(|m| m.client_streaming() || m.server_streaming())
        .map(|m| {
            (
                m.name().to_owned(),
                m.client_streaming(),
                m.server_streaming(),
            )
        })
        .collect();
    // grpc-web in browsers cannot stream from the client.
    assert_eq!(streaming, vec![("WatchJob".to_owned(), false, true)]);
}

/// `EqBandType` -> `EQ_BAND_TYPE`.
fn screaming_snake(name: &str) -> String {
    let mut out = String::new();
    for (index, ch) in name.chars().enumerate() {
        if ch.is_ascii_uppercase() && index > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}

fn all_enums(file: &FileDescriptorProto) -> Vec<EnumDescriptorProto> {
    fn nested(message: &DescriptorProto, out: &mut Vec<EnumDescriptorProto>) {
        out.extend(message.enum_type.iter().cloned());
        for inner in &message.nested_type {
            nested(inner, out);
        }
    }
    let mut out = file.enum_type.clone();
    for message in &file.message_type {
        nested(message, &mut out);
    }
    out
}

#[test]
fn every_enum_starts_with_unspecified_zero_and_prefixes_its_values() {
    let enums: Vec<EnumDescriptorProto> = gts_files().iter().flat_map(all_enums).collect();
    assert!(
        enums.len() >= 10,
        "expected the contract's enums, got {}",
        enums.len()
    );
    for descriptor in enums {
        let prefix = screaming_snake(descriptor.name());
        let first = descriptor.value.first().unwrap();
        assert_eq!(first.number(), 0, "{}", descriptor.name());
        assert_eq!(first.name(), format!("{prefix}_UNSPECIFIED"));
        for value in &descriptor.value {
            assert!(
                value.name().starts_with(&format!("{prefix}_")),
                "{} lacks the {prefix}_ prefix",
                value.name()
            );
        }
    }
}

// Field numbers of descriptor.proto, used to build source-code-info paths.
const FILE_MESSAGE_TYPE: i32 = 4;
const FILE_ENUM_TYPE: i32 = 5;
const FILE_SERVICE: i32 = 6;
const MESSAGE_FIELD: i32 = 2;
const MESSAGE_NESTED_TYPE: i32 = 3;
const MESSAGE_ENUM_TYPE: i32 = 4;
const MESSAGE_ONEOF: i32 = 8;
const ENUM_VALUE: i32 = 2;
const SERVICE_METHOD: i32 = 2;

/// Paths (and names, for messages) of every element that needs a comment.
fn commentable_paths(file: &FileDescriptorProto) -> Vec<(Vec<i32>, String)> {
    fn index(i: usize) -> i32 {
        i32::try_from(i).unwrap()
    }
    fn enum_paths(path: &[i32], e: &EnumDescriptorProto, out: &mut Vec<(Vec<i32>, String)>) {
        out.push((path.to_vec(), format!("enum {}", e.name())));
        for (i, value) in e.value.iter().enumerate() {
            let mut p = path.to_vec();
            p.extend([ENUM_VALUE, index(i)]);
            out.push((p, format!("value {}", value.name())));
        }
    }
    fn message_paths(path: &[i32], m: &DescriptorProto, out: &mut Vec<(Vec<i32>, String)>) {
        out.push((path.to_vec(), format!("message {}", m.name())));
        for (i, field) in m.field.iter().enumerate() {
            let mut p = path.to_vec();
            p.extend([MESSAGE_FIELD, index(i)]);
            out.push((p, format!("field {}.{}", m.name(), field.name())));
        }
        for (i, oneof) in m.oneof_decl.iter().enumerate() {
            // proto3 `optional` creates synthetic oneofs named `_<field>`; they have no source.
            if oneof.name().starts_with('_') {
                continue;
            }
            let mut p = path.to_vec();
            p.extend([MESSAGE_ONEOF, index(i)]);
            out.push((p, format!("oneof {}.{}", m.name(), oneof.name())));
        }
        for (i, inner) in m.nested_type.iter().enumerate() {
            let mut p = path.to_vec();
            p.extend([MESSAGE_NESTED_TYPE, index(i)]);
            message_paths(&p, inner, out);
        }
        for (i, e) in m.enum_type.iter().enumerate() {
            let mut p = path.to_vec();
            p.extend([MESSAGE_ENUM_TYPE, index(i)]);
            enum_paths(&p, e, out);
        }
    }
    let mut out = Vec::new();
    for (i, m) in file.message_type.iter().enumerate() {
        message_paths(&[FILE_MESSAGE_TYPE, index(i)], m, &mut out);
    }
    for (i, e) in file.enum_type.iter().enumerate() {
        enum_paths(&[FILE_ENUM_TYPE, index(i)], e, &mut out);
    }
    for (i, service) in file.service.iter().enumerate() {
        out.push((
            vec![FILE_SERVICE, index(i)],
            format!("service {}", service.name()),
        ));
        for (j, method) in service.method.iter().enumerate() {
            out.push((
                vec![FILE_SERVICE, index(i), SERVICE_METHOD, index(j)],
                format!("rpc {}.{}", service.name(), method.name()),
            ));
        }
    }
    out
}

#[test]
fn every_message_field_enum_value_service_and_rpc_has_a_comment() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for file in gts_files() {
        let info = file.source_code_info.clone().unwrap();
        let commented: HashSet<Vec<i32>> = info
            .location
            .iter()
            .filter(|loc| !loc.leading_comments().trim().is_empty())
            .map(|loc| loc.path.clone())
            .collect();
        for (path, what) in commentable_paths(&file) {
            checked += 1;
            if !commented.contains(&path) {
                missing.push(format!("{}: {what}", file.name()));
            }
        }
    }
    assert!(checked > 300, "walked only {checked} elements");
    assert!(missing.is_empty(), "uncommented:\n{}", missing.join("\n"));
}

#[test]
fn a_shootout_with_typed_blocks_round_trips_through_the_wire() {
    let block = v1::Block {
        id: "b1".to_owned(),
        kind: Some(v1::block::Kind::NamModel(v1::NamModelBlock {
            source: Some(v1::ModelSource {
                source: Some(v1::model_source::Source::Tone3000Model(
                    v1::Tone3000ModelRef {
                        tone_id: 51949,
                        model_id: 293_886,
                    },
                )),
            }),
            input_gain_db: -3.0,
        })),
    };
    let shootout = v1::Shootout {
        name: "Plexi vs JCM".to_owned(),
        chains: vec![v1::SignalChain {
            display_name: "Plexi".to_owned(),
            blocks: vec![block],
            ..Default::default()
        }],
        output_options: Some(v1::OutputOptions {
            loudness_target_lufs: Some(-14.0),
            ..Default::default()
        }),
        ..Default::default()
    };
    let decoded = v1::Shootout::decode(shootout.encode_to_vec().as_slice()).unwrap();
    assert_eq!(decoded, shootout);
    // An unset `optional` stays distinguishable from zero after the round trip.
    let options = decoded.output_options.unwrap();
    assert_eq!(options.phrase_length_seconds, None);
}

#[test]
fn the_set_is_self_contained_for_reflection_clients() {
    // buf curl / grpcurl resolve imports through reflection: every import must be in the set.
    let set = descriptor_set();
    let names: HashSet<&str> = set.file.iter().map(|f| f.name()).collect();
    for file in &set.file {
        for dependency in &file.dependency {
            assert!(
                names.contains(dependency.as_str()),
                "{} imports {dependency}, which is missing",
                file.name()
            );
        }
    }
    assert!(names.contains("google/protobuf/timestamp.proto"));
    assert!(names.contains("google/protobuf/field_mask.proto"));
}
