//! TONE3000 API types (the `tone3000` crate's) to `gts.v1` messages and back.
//!
//! Enums travel as their wire strings; a value this version does not know maps to the
//! UNSPECIFIED variant rather than failing the call.

use gts_proto::v1::{
    ArchitectureVersion, LibraryPageInfo, Model, ModelSize, Tone, ToneFormat, ToneGear,
    ToneLicense, ToneMake, ToneSort, ToneTag, ToneUser,
};

fn timestamp(raw: Option<&str>) -> Option<prost_types::Timestamp> {
    let parsed = chrono::DateTime::parse_from_rfc3339(raw?).ok()?;
    Some(crate::convert::timestamp(
        parsed.with_timezone(&chrono::Utc),
    ))
}

pub fn gear(wire: &str) -> ToneGear {
    match wire {
        "amp" => ToneGear::Amp,
        "amp-cab" => ToneGear::AmpCab,
        "full-rig" => ToneGear::FullRig,
        "pedal" => ToneGear::Pedal,
        "outboard" => ToneGear::Outboard,
        "cab" => ToneGear::Cab,
        "space" => ToneGear::Space,
        "experimental" => ToneGear::Experimental,
        "ir" => ToneGear::Ir,
        _ => ToneGear::Unspecified,
    }
}

pub fn gear_to_wire(gear: ToneGear) -> Option<tone3000::Gear> {
    use tone3000::Gear as G;
    Some(match gear {
        ToneGear::Amp => G::Amp,
        ToneGear::AmpCab => G::AmpCab,
        ToneGear::FullRig => G::FullRig,
        ToneGear::Pedal => G::Pedal,
        ToneGear::Outboard => G::Outboard,
        ToneGear::Cab => G::Cab,
        ToneGear::Space => G::Space,
        ToneGear::Experimental => G::Experimental,
        ToneGear::Ir => G::Ir,
        ToneGear::Unspecified => return None,
    })
}

fn format(wire: &str) -> ToneFormat {
    match wire {
        "nam" => ToneFormat::Nam,
        "ir" => ToneFormat::Ir,
        "aida-x" => ToneFormat::AidaX,
        "aa-snapshot" => ToneFormat::AaSnapshot,
        "proteus" => ToneFormat::Proteus,
        _ => ToneFormat::Unspecified,
    }
}

pub fn format_to_wire(format: ToneFormat) -> Option<tone3000::Format> {
    use tone3000::Format as F;
    Some(match format {
        ToneFormat::Nam => F::Nam,
        ToneFormat::Ir => F::Ir,
        ToneFormat::AidaX => F::AidaX,
        ToneFormat::AaSnapshot => F::AaSnapshot,
        ToneFormat::Proteus => F::Proteus,
        ToneFormat::Unspecified => return None,
    })
}

fn license(wire: &str) -> ToneLicense {
    match wire {
        "t3k" => ToneLicense::T3k,
        "cc-by" => ToneLicense::CcBy,
        "cc-by-sa" => ToneLicense::CcBySa,
        "cc-by-nc" => ToneLicense::CcByNc,
        "cc-by-nc-sa" => ToneLicense::CcByNcSa,
        "cc-by-nd" => ToneLicense::CcByNd,
        "cc-by-nc-nd" => ToneLicense::CcByNcNd,
        "cco" => ToneLicense::Cc0,
        _ => ToneLicense::Unspecified,
    }
}

fn size(wire: &str) -> ModelSize {
    match wire {
        "standard" => ModelSize::Standard,
        "lite" => ModelSize::Lite,
        "feather" => ModelSize::Feather,
        "nano" => ModelSize::Nano,
        "custom" => ModelSize::Custom,
        _ => ModelSize::Unspecified,
    }
}

pub fn size_to_wire(size: ModelSize) -> Option<tone3000::Size> {
    use tone3000::Size as S;
    Some(match size {
        ModelSize::Standard => S::Standard,
        ModelSize::Lite => S::Lite,
        ModelSize::Feather => S::Feather,
        ModelSize::Nano => S::Nano,
        ModelSize::Custom => S::Custom,
        ModelSize::Unspecified => return None,
    })
}

pub fn sort_to_wire(sort: ToneSort) -> Option<tone3000::ToneSort> {
    use tone3000::ToneSort as S;
    Some(match sort {
        ToneSort::BestMatch => S::BestMatch,
        ToneSort::Newest => S::Newest,
        ToneSort::Oldest => S::Oldest,
        ToneSort::Trending => S::Trending,
        ToneSort::DownloadsAllTime => S::DownloadsAllTime,
        ToneSort::Unspecified => return None,
    })
}

fn architecture(wire: &str) -> ArchitectureVersion {
    match wire {
        "1" => ArchitectureVersion::A1,
        "2" => ArchitectureVersion::A2,
        "custom" => ArchitectureVersion::Custom,
        _ => ArchitectureVersion::Unspecified,
    }
}

pub fn architecture_to_wire(version: ArchitectureVersion) -> Option<tone3000::ArchitectureVersion> {
    use tone3000::ArchitectureVersion as A;
    Some(match version {
        ArchitectureVersion::A1 => A::V1,
        ArchitectureVersion::A2 => A::V2,
        ArchitectureVersion::Custom => A::Custom,
        ArchitectureVersion::Unspecified => return None,
    })
}

pub fn tone(tone: tone3000::Tone) -> Tone {
    Tone {
        id: tone.id.0,
        user_id: tone.user_id.0.clone(),
        user: tone.user.map(|user| ToneUser {
            id: user.id.0,
            username: user.username,
            avatar_url: user.avatar_url.unwrap_or_default(),
            url: user.url,
        }),
        title: tone.title,
        description: tone.description.unwrap_or_default(),
        gear: tone.gear.map(|g| gear(g.as_str()) as i32).unwrap_or(0),
        format: tone.format.map(|f| format(f.as_str()) as i32).unwrap_or(0),
        license: tone
            .license
            .map(|l| license(l.as_str()) as i32)
            .unwrap_or(0),
        sizes: tone.sizes.iter().map(|s| size(s.as_str()) as i32).collect(),
        images: tone.images,
        links: tone.links,
        makes: tone
            .makes
            .into_iter()
            .map(|m| ToneMake {
                id: m.id.map(|id| id.0),
                name: m.name,
            })
            .collect(),
        tags: tone
            .tags
            .into_iter()
            .map(|t| ToneTag {
                id: t.id.map(|id| id.0),
                name: t.name,
            })
            .collect(),
        is_public: tone.is_public,
        url: tone.url,
        models_count: tone.models_count,
        favorites_count: tone.favorites_count,
        downloads_count: tone.downloads_count,
        a1_models_count: tone.a1_models_count,
        a2_models_count: tone.a2_models_count,
        irs_count: tone.irs_count,
        custom_models_count: tone.custom_models_count,
        created_at: timestamp(tone.created_at.as_deref()),
        updated_at: timestamp(tone.updated_at.as_deref()),
    }
}

pub fn model(model: tone3000::Model) -> Model {
    Model {
        id: model.id.0,
        tone_id: model.tone_id.0,
        user_id: model.user_id.0,
        name: model.name,
        model_url: model.model_url,
        size: model.size.map(|s| size(s.as_str()) as i32).unwrap_or(0),
        architecture_version: model
            .architecture_version
            .map(|a| architecture(a.as_str()) as i32)
            .unwrap_or(0),
        created_at: timestamp(model.created_at.as_deref()),
        updated_at: timestamp(model.updated_at.as_deref()),
        calibration: None,
    }
}

/// The level metadata of a `.nam` file, as the library shows it.
pub fn calibration(
    metadata: &gts_render::nam_metadata::NamMetadata,
) -> gts_proto::v1::NamCalibration {
    gts_proto::v1::NamCalibration {
        input_level_dbu: metadata.input_level_dbu,
        output_level_dbu: metadata.output_level_dbu,
        loudness_db: metadata.loudness_db,
        gain: metadata.gain,
        usable_for_calibration: matches!(
            metadata.calibration(),
            gts_render::nam_metadata::Calibration::Usable(_)
        ),
    }
}

pub fn page_info<T>(page: &tone3000::Page<T>) -> LibraryPageInfo {
    LibraryPageInfo {
        page: page.page,
        page_size: page.page_size,
        total: page.total,
        total_pages: page.total_pages,
    }
}
