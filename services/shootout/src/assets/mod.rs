//! Assets (a user's validated uploads): their kinds as the database spells them, with
//! their names for people, and their rows ([`store`]).

pub mod store;

use gts_proto::v1::AssetKind;

/// The kind of an uploaded file (`assets.kind` / `uploads.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKindName {
    DiTrack,
    NamModel,
    ImpulseResponse,
}

impl AssetKindName {
    /// The database spelling.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::DiTrack => "di_track",
            Self::NamModel => "nam_model",
            Self::ImpulseResponse => "impulse_response",
        }
    }

    /// The kind `column` holds; anything else is a corrupt row.
    pub fn stored(column: &str, raw: &str) -> Result<Self, crate::error::ShootoutError> {
        Self::from_db(raw)
            .ok_or_else(|| crate::error::ShootoutError::Corrupt(format!("{column} holds {raw:?}")))
    }

    pub fn from_db(raw: &str) -> Option<Self> {
        match raw {
            "di_track" => Some(Self::DiTrack),
            "nam_model" => Some(Self::NamModel),
            "impulse_response" => Some(Self::ImpulseResponse),
            _ => None,
        }
    }

    /// How a message names it.
    pub fn human(self) -> &'static str {
        match self {
            Self::DiTrack => "DI track",
            Self::NamModel => "NAM model",
            Self::ImpulseResponse => "impulse response",
        }
    }

    pub fn to_proto(self) -> AssetKind {
        match self {
            Self::DiTrack => AssetKind::DiTrack,
            Self::NamModel => AssetKind::NamModel,
            Self::ImpulseResponse => AssetKind::ImpulseResponse,
        }
    }

    /// The kind a request names; `None` for unspecified or unknown values.
    pub fn from_proto(raw: i32) -> Option<Self> {
        match AssetKind::try_from(raw).ok()? {
            AssetKind::DiTrack => Some(Self::DiTrack),
            AssetKind::NamModel => Some(Self::NamModel),
            AssetKind::ImpulseResponse => Some(Self::ImpulseResponse),
            AssetKind::Unspecified => None,
        }
    }
}
