//! The seeded library: users, tones and models, with the bytes each model downloads.
//!
//! Contract: the catalogue is fixed at start-up and read-only afterwards. Every model
//! file comes from the fixtures directory (`nam/*.nam`, `irs/*.wav`) and is read once at
//! start, so a missing file fails `start` instead of a later download. Tone and model
//! ids are stable across runs, so tests and the demo may name them.

use std::path::{Path, PathBuf};

use bytes::Bytes;

/// One TONE3000 account known to the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    /// Account id (a UUID string, as the real API uses).
    pub id: String,
    /// Display name.
    pub username: String,
}

impl FakeUser {
    /// A user with the given id and username.
    pub fn new(id: impl Into<String>, username: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            username: username.into(),
        }
    }
}

/// Tone id of the JCM800 amp tone (two NAM models, favourited by the test user).
pub const TONE_JCM800: u64 = 51949;
/// Tone id of the Badlander amp tone (one architecture-2 NAM model).
pub const TONE_BADLANDER: u64 = 6298;
/// Tone id of the Klon pedal tone (one tiny NAM model).
pub const TONE_KLON: u64 = 2699;
/// Tone id of the Deluxe Reverb tone (one LSTM model), created by the test user.
pub const TONE_DELUXE: u64 = 70112;
/// Tone id of the cabinet IR pack (five `.wav` IRs), favourited by the test user.
pub const TONE_CAB_PACK: u64 = 33510;
/// Tone id of a private work-in-progress tone created by the test user.
pub const TONE_PRIVATE_DRAFT: u64 = 80001;
/// Tone id of a private tone owned by someone else (403 for the test user).
pub const TONE_PRIVATE_OTHER: u64 = 80002;

/// A tone as the fake stores it; serialised into the API's two shapes by `wire`.
#[derive(Debug, Clone)]
pub(crate) struct ToneRecord {
    pub id: u64,
    pub owner: FakeUser,
    pub title: String,
    pub description: String,
    pub gear: &'static str,
    pub format: &'static str,
    pub license: &'static str,
    pub makes: Vec<(u64, String)>,
    pub tags: Vec<(u64, String)>,
    pub links: Vec<String>,
    pub is_public: bool,
    pub created_at: &'static str,
    pub favorites_count: u64,
    pub downloads_count: u64,
    pub favorited_by_test_user: bool,
}

/// A downloadable model and its file bytes.
#[derive(Debug, Clone)]
pub(crate) struct ModelRecord {
    pub id: u64,
    pub tone_id: u64,
    pub owner_id: String,
    pub name: String,
    pub file_name: String,
    /// `None` for IRs, which have no size class.
    pub size: Option<&'static str>,
    /// `"1"`, `"2"` or `"custom"`; `None` for IRs.
    pub architecture: Option<&'static str>,
    pub created_at: &'static str,
    pub bytes: Bytes,
}

/// The whole seeded library.
#[derive(Debug, Clone)]
pub(crate) struct Catalogue {
    pub tones: Vec<ToneRecord>,
    pub models: Vec<ModelRecord>,
}

/// Why the catalogue could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot read fixture file {path}: {source}")]
pub struct FixtureError {
    /// The file that could not be read.
    pub path: PathBuf,
    /// The underlying I/O error.
    #[source]
    pub source: std::io::Error,
}

const BRUCE: (&str, &str) = ("57af4bb9-80fe-43be-93b3-e3c9e9d92717", "brucew");
const AKKA: (&str, &str) = ("6d6ff309-f602-412d-8141-253f57be5d50", "akka5");
/// The cab pack's IR files and the names TONE3000 users give such IRs.
const CAB_IRS: [(&str, &str); 5] = [
    (
        "1x12-ac15.wav",
        "Vox AC15 1x12 Alnico Blue, SM57 on the cap",
    ),
    ("1x12-black-panel.wav", "Black Panel 1x12 Jensen C12N, R121"),
    ("2x12-ac130.wav", "AC130 2x12 Greenback, SM57 off-axis"),
    ("4x12-classic.wav", "Marshall 1960A 4x12 G12M-25, SM57 edge"),
    ("4x12-vintage.wav", "4x12 Vintage 30, SM57 + R121 blend"),
];

impl Catalogue {
    /// Seeds the library around `test_user`, reading model files from `fixtures_dir`.
    pub(crate) fn seed(fixtures_dir: &Path, test_user: &FakeUser) -> Result<Self, FixtureError> {
        let bruce = FakeUser::new(BRUCE.0, BRUCE.1);
        let akka = FakeUser::new(AKKA.0, AKKA.1);
        let tones = seed_tones(test_user, &bruce, &akka);
        let mut models = Vec::new();
        let mut add = |id: u64,
                       tone_id: u64,
                       owner: &FakeUser,
                       name: &str,
                       relative: &str,
                       size: Option<&'static str>,
                       architecture: Option<&'static str>|
         -> Result<(), FixtureError> {
            let path = fixtures_dir.join(relative);
            let bytes = std::fs::read(&path).map_err(|source| FixtureError {
                path: path.clone(),
                source,
            })?;
            let file_name = Path::new(relative)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| relative.to_owned());
            models.push(ModelRecord {
                id,
                tone_id,
                owner_id: owner.id.clone(),
                name: name.to_owned(),
                file_name,
                size,
                architecture,
                created_at: "2026-01-29T12:19:44.3+00:00",
                bytes: Bytes::from(bytes),
            });
            Ok(())
        };
        let v1 = Some("1");
        add(
            293886,
            TONE_JCM800,
            &bruce,
            "JCM800 2203 Crunch DI standard",
            "nam/wavenet_a1_standard.nam",
            Some("standard"),
            v1,
        )?;
        add(
            293887,
            TONE_JCM800,
            &bruce,
            "JCM800 2203 Crunch DI nano",
            "nam/wavenet.nam",
            Some("nano"),
            v1,
        )?;
        add(
            301200,
            TONE_BADLANDER,
            &akka,
            "Badlander 100 EL34 ch2 A2",
            "nam/A2.nam",
            Some("standard"),
            Some("2"),
        )?;
        add(
            150044,
            TONE_KLON,
            &akka,
            "Klon Centaur gain 10 o'clock",
            "nam/wavenet.nam",
            Some("nano"),
            v1,
        )?;
        add(
            310500,
            TONE_DELUXE,
            test_user,
            "Deluxe Reverb vol 4 LSTM",
            "nam/lstm.nam",
            Some("custom"),
            Some("custom"),
        )?;
        for (offset, (ir, name)) in (0u64..).zip(CAB_IRS) {
            add(
                220300 + offset,
                TONE_CAB_PACK,
                &bruce,
                name,
                &format!("irs/{ir}"),
                None,
                None,
            )?;
        }
        add(
            400001,
            TONE_PRIVATE_DRAFT,
            test_user,
            "Bogner draft take 1",
            "nam/wavenet.nam",
            Some("nano"),
            v1,
        )?;
        add(
            400002,
            TONE_PRIVATE_OTHER,
            &akka,
            "Unreleased Friedman",
            "nam/wavenet.nam",
            Some("nano"),
            v1,
        )?;
        Ok(Self { tones, models })
    }

    pub(crate) fn tone(&self, id: u64) -> Option<&ToneRecord> {
        self.tones.iter().find(|t| t.id == id)
    }

    pub(crate) fn model(&self, id: u64) -> Option<&ModelRecord> {
        self.models.iter().find(|m| m.id == id)
    }

    pub(crate) fn models_of(&self, tone_id: u64) -> impl Iterator<Item = &ModelRecord> {
        self.models.iter().filter(move |m| m.tone_id == tone_id)
    }
}

fn names(items: &[(u64, &str)]) -> Vec<(u64, String)> {
    items.iter().map(|(id, n)| (*id, (*n).to_owned())).collect()
}

fn seed_tones(test_user: &FakeUser, bruce: &FakeUser, akka: &FakeUser) -> Vec<ToneRecord> {
    let tone = |id: u64, owner: &FakeUser, title: &str, description: &str| ToneRecord {
        id,
        owner: owner.clone(),
        title: title.to_owned(),
        description: description.to_owned(),
        gear: "amp",
        format: "nam",
        license: "t3k",
        makes: Vec::new(),
        tags: Vec::new(),
        links: Vec::new(),
        is_public: true,
        created_at: "2026-01-25T18:27:37.799064+00:00",
        favorites_count: 0,
        downloads_count: 0,
        favorited_by_test_user: false,
    };
    vec![
        ToneRecord {
            makes: names(&[(1636, "Marshall JCM800")]),
            tags: names(&[(12, "crunch"), (31, "1980s")]),
            links: vec!["https://www.youtube.com/watch?v=jcm800demo".to_owned()],
            created_at: "2026-01-25T18:27:37.799064+00:00",
            favorites_count: 46,
            downloads_count: 4290,
            favorited_by_test_user: true,
            ..tone(
                TONE_JCM800,
                bruce,
                "Marshall JCM800 2203 Crunch",
                "2203 at gain 6, master 4, straight into a load box. Standard and nano sizes.",
            )
        },
        ToneRecord {
            makes: names(&[(2201, "Mesa Boogie Badlander")]),
            tags: names(&[(40, "high-gain"), (41, "metal")]),
            license: "cc-by",
            created_at: "2025-11-02T09:12:00.000+00:00",
            favorites_count: 120,
            downloads_count: 9800,
            ..tone(
                TONE_BADLANDER,
                akka,
                "Mesa Boogie Badlander 100W EL34",
                "Channel 2 modern, EL34 power section, A2 architecture capture.",
            )
        },
        ToneRecord {
            gear: "pedal",
            makes: names(&[(880, "Klon Centaur")]),
            tags: names(&[(5, "clean"), (7, "boost")]),
            license: "cc-by-sa",
            created_at: "2023-07-22T01:18:44.512+00:00",
            favorites_count: 14,
            downloads_count: 604,
            ..tone(
                TONE_KLON,
                akka,
                "Klon Centaur Clean Boost",
                "Gain at 10 o'clock, treble at noon. A tiny WaveNet.",
            )
        },
        ToneRecord {
            makes: names(&[(1701, "Fender Deluxe Reverb")]),
            tags: names(&[(5, "clean")]),
            license: "cc-by",
            created_at: "2026-03-14T20:01:10.000+00:00",
            favorites_count: 3,
            downloads_count: 57,
            ..tone(
                TONE_DELUXE,
                test_user,
                "Fender Deluxe Reverb Clean",
                "Volume 4, vibrato channel, an LSTM capture.",
            )
        },
        ToneRecord {
            gear: "ir",
            format: "ir",
            license: "cco",
            makes: names(&[(3100, "Vox AC15"), (3101, "Marshall 1960A")]),
            tags: names(&[(60, "cab"), (61, "ir")]),
            created_at: "2024-05-10T08:00:00.000+00:00",
            favorites_count: 230,
            downloads_count: 15400,
            favorited_by_test_user: true,
            ..tone(
                TONE_CAB_PACK,
                bruce,
                "Speaker Impulse Responses (cab pack)",
                "Five short cabinet IRs: 1x12, 2x12 and 4x12, 44.1 kHz mono.",
            )
        },
        ToneRecord {
            is_public: false,
            makes: names(&[(2900, "Bogner Ecstasy")]),
            created_at: "2026-04-01T10:00:00.000+00:00",
            ..tone(
                TONE_PRIVATE_DRAFT,
                test_user,
                "Bogner Ecstasy draft",
                "Not published yet.",
            )
        },
        ToneRecord {
            is_public: false,
            makes: names(&[(2950, "Friedman BE-100")]),
            created_at: "2026-04-02T10:00:00.000+00:00",
            ..tone(
                TONE_PRIVATE_OTHER,
                akka,
                "Friedman BE-100 (unreleased)",
                "Private.",
            )
        },
    ]
}
