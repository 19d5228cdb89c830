//! Resource endpoints of the v1 API: user, users, tones, models and model downloads.
//!
//! Contract: every handler runs behind the bearer guard, so it sees the authenticated
//! user in `AuthedUser`. Lists use the real envelope (`data`, `page`, `page_size`,
//! `total`, `total_pages`), 1-based pages, default page size 10; search caps
//! `page_size` at 25 and the user directory at 10, as the real API does. Query values are parsed here, so a bad one
//! answers 400 with the API's error body rather than a framework message.

use std::cmp::Reverse;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::catalogue::{FakeUser, ToneRecord};
use crate::error::ApiError;
use crate::state::FakeState;
use crate::wire;

/// The user behind the request's access token, put there by the bearer guard.
#[derive(Debug, Clone)]
pub(crate) struct AuthedUser(pub FakeUser);

const DEFAULT_PAGE_SIZE: u32 = 10;
const MAX_SEARCH_PAGE_SIZE: u32 = 25;
const MAX_LIST_PAGE_SIZE: u32 = 100;
const MAX_USERS_PAGE_SIZE: u32 = 10;

struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<String>) -> Self {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A list parameter; accepts `_` (what clients send) and `,` (what the docs show).
    fn list(&self, name: &str, separators: &[char]) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(|c| separators.contains(&c))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn positive(&self, name: &str, default: u32) -> Result<u32, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(ApiError::BadRequest(format!(
                    "{name} must be a positive integer"
                ))),
            },
        }
    }

    fn paging(&self, max_page_size: u32) -> Result<(u32, u32), ApiError> {
        let page = self.positive("page", 1)?;
        let page_size = self
            .positive("page_size", DEFAULT_PAGE_SIZE)?
            .min(max_page_size);
        Ok((page, page_size))
    }
}

fn paginate(items: Vec<Value>, page: u32, page_size: u32) -> Value {
    let total = items.len();
    let skip = (page as usize - 1).saturating_mul(page_size as usize);
    let data = items
        .into_iter()
        .skip(skip)
        .take(page_size as usize)
        .collect();
    wire::page(data, page, page_size, total)
}

/// A tone is visible to its owner, and to everyone if public.
fn visible(tone: &ToneRecord, user: &FakeUser) -> bool {
    tone.is_public || tone.owner.id == user.id
}

/// `GET /user`.
pub(crate) async fn user(Extension(AuthedUser(user)): Extension<AuthedUser>) -> Json<Value> {
    Json(wire::user(&user))
}

fn matches_query(tone: &ToneRecord, terms: &[String]) -> bool {
    let haystack = format!(
        "{} {} {} {} {}",
        tone.title,
        tone.description,
        tone.owner.username,
        tone.makes
            .iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        tone.tags
            .iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    )
    .to_lowercase();
    terms.iter().all(|t| haystack.contains(t.as_str()))
}

/// `GET /tones/search`: browse (no `query`) or search the public library.
pub(crate) async fn search(
    State(state): State<Arc<FakeState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let p = Params::parse(raw);
    let (page, page_size) = p.paging(MAX_SEARCH_PAGE_SIZE)?;
    let terms: Vec<String> = p
        .get("query")
        .map(|q| q.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    let gears = p.list("gears", &['_', ',']);
    let sizes = p.list("sizes", &['_', ',']);
    let tags = p.list("tags", &['_']);
    let makes = p.list("makes", &['_']);
    let creators = p.list("creators", &[',']);
    let format = p.get("format");
    let architecture = p.get("architecture");
    let sort = match p.get("sort") {
        Some(s) => s,
        None if terms.is_empty() => "trending",
        None => "best-match",
    };
    if !matches!(
        sort,
        "best-match" | "newest" | "oldest" | "trending" | "downloads-all-time"
    ) {
        return Err(ApiError::BadRequest(format!("unknown sort {sort:?}")));
    }

    let catalogue = &state.catalogue;
    let mut hits: Vec<&ToneRecord> = catalogue
        .tones
        .iter()
        .filter(|t| t.is_public)
        .filter(|t| matches_query(t, &terms))
        .filter(|t| gears.is_empty() || gears.iter().any(|g| g == t.gear))
        .filter(|t| format.is_none_or(|f| f == t.format))
        .filter(|t| {
            sizes.is_empty()
                || wire::sizes(catalogue, t.id)
                    .iter()
                    .any(|s| sizes.iter().any(|w| w == s))
        })
        .filter(|t| tags.is_empty() || t.tags.iter().any(|(_, n)| tags.contains(n)))
        .filter(|t| makes.is_empty() || t.makes.iter().any(|(_, n)| makes.contains(n)))
        .filter(|t| creators.is_empty() || creators.contains(&t.owner.username))
        .filter(|t| {
            architecture
                .is_none_or(|a| catalogue.models_of(t.id).any(|m| m.architecture == Some(a)))
        })
        .collect();
    match sort {
        "newest" => hits.sort_by_key(|t| Reverse(t.created_at)),
        "oldest" => hits.sort_by_key(|t| t.created_at),
        "trending" => hits.sort_by_key(|t| Reverse(t.favorites_count)),
        "downloads-all-time" => hits.sort_by_key(|t| Reverse(t.downloads_count)),
        // Best match: more popular first among matches, a stable stand-in for relevance.
        _ => hits.sort_by_key(|t| Reverse(t.downloads_count + t.favorites_count)),
    }
    let items = hits
        .into_iter()
        .map(|t| wire::tone_summary(catalogue, t))
        .collect();
    Ok(Json(paginate(items, page, page_size)))
}

fn user_list(
    state: &FakeState,
    raw: Option<String>,
    keep: impl Fn(&ToneRecord) -> bool,
) -> Result<Json<Value>, ApiError> {
    let (page, page_size) = Params::parse(raw).paging(MAX_LIST_PAGE_SIZE)?;
    let items = state
        .catalogue
        .tones
        .iter()
        .filter(|t| keep(t))
        .map(|t| wire::tone_detail(&state.catalogue, t))
        .collect();
    Ok(Json(paginate(items, page, page_size)))
}

/// `GET /tones/created`: the user's own tones, private ones included.
pub(crate) async fn created(
    State(state): State<Arc<FakeState>>,
    Extension(AuthedUser(user)): Extension<AuthedUser>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    user_list(&state, raw, |t| t.owner.id == user.id)
}

/// `GET /tones/favorited`: the tones the test user has favourited.
pub(crate) async fn favorited(
    State(state): State<Arc<FakeState>>,
    Extension(AuthedUser(user)): Extension<AuthedUser>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let is_test_user = user.id == state.test_user.id;
    user_list(&state, raw, |t| {
        is_test_user && t.favorited_by_test_user && visible(t, &user)
    })
}

fn parse_id(raw: &str, what: &'static str) -> Result<u64, ApiError> {
    raw.parse::<u64>().map_err(|_| ApiError::NotFound(what))
}

fn visible_tone<'a>(
    state: &'a FakeState,
    id: u64,
    user: &FakeUser,
) -> Result<&'a ToneRecord, ApiError> {
    let tone = state
        .catalogue
        .tone(id)
        .ok_or(ApiError::NotFound("tone not found"))?;
    if visible(tone, user) {
        Ok(tone)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// `GET /tones/{id}`.
pub(crate) async fn tone(
    State(state): State<Arc<FakeState>>,
    Extension(AuthedUser(user)): Extension<AuthedUser>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let tone = visible_tone(&state, parse_id(&id, "tone not found")?, &user)?;
    Ok(Json(wire::tone_detail(&state.catalogue, tone)))
}

/// `GET /models?tone_id=..`: one architecture at a time, default `1` (IR tones list
/// their IRs whatever the architecture).
pub(crate) async fn models(
    State(state): State<Arc<FakeState>>,
    Extension(AuthedUser(user)): Extension<AuthedUser>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let p = Params::parse(raw);
    let tone_id = p
        .get("tone_id")
        .ok_or_else(|| ApiError::BadRequest("tone_id is required".into()))?
        .parse::<u64>()
        .map_err(|_| ApiError::BadRequest("tone_id must be an integer".into()))?;
    let (page, page_size) = p.paging(MAX_LIST_PAGE_SIZE)?;
    let architecture = p.get("architecture").unwrap_or("1");
    let tone = visible_tone(&state, tone_id, &user)?;
    let items = state
        .catalogue
        .models_of(tone.id)
        .filter(|m| m.architecture.is_none() || m.architecture == Some(architecture))
        .map(|m| wire::model(&state.api_base, m))
        .collect();
    Ok(Json(paginate(items, page, page_size)))
}

/// `GET /models/{id}`.
pub(crate) async fn model(
    State(state): State<Arc<FakeState>>,
    Extension(AuthedUser(user)): Extension<AuthedUser>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let model = state
        .catalogue
        .model(parse_id(&id, "model not found")?)
        .ok_or(ApiError::NotFound("model not found"))?;
    visible_tone(&state, model.tone_id, &user)?;
    Ok(Json(wire::model(&state.api_base, model)))
}

/// `GET /models/{id}/download/{file}`: the model file's bytes (what `model_url` names).
pub(crate) async fn download(
    State(state): State<Arc<FakeState>>,
    Extension(AuthedUser(user)): Extension<AuthedUser>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let model = state
        .catalogue
        .model(parse_id(&id, "model not found")?)
        .filter(|m| m.file_name == file)
        .ok_or(ApiError::NotFound("model file not found"))?;
    visible_tone(&state, model.tone_id, &user)?;
    state.note_download();
    let content_type = if file.ends_with(".wav") {
        "audio/wav"
    } else {
        "application/octet-stream"
    };
    let mut r = model.bytes.clone().into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", model.file_name)) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// `GET /users`: the public directory — creators with public tones, with their metrics.
pub(crate) async fn users(
    State(state): State<Arc<FakeState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let p = Params::parse(raw);
    let (page, page_size) = p.paging(MAX_USERS_PAGE_SIZE)?;
    let sort = p.get("sort").unwrap_or("tones");
    if !matches!(sort, "tones" | "downloads" | "favorites" | "models") {
        return Err(ApiError::BadRequest(format!("unknown sort {sort:?}")));
    }
    let needle = p.get("query").map(str::to_lowercase);
    let catalogue = &state.catalogue;
    let mut creators: Vec<wire::CreatorStats> = Vec::new();
    for tone in catalogue.tones.iter().filter(|t| t.is_public) {
        let models = catalogue.models_of(tone.id).count() as u64;
        match creators.iter_mut().find(|c| c.user.id == tone.owner.id) {
            Some(c) => c.add(tone, models),
            None => {
                let mut c = wire::CreatorStats::new(tone.owner.clone());
                c.add(tone, models);
                creators.push(c);
            }
        }
    }
    creators.retain(|c| {
        needle
            .as_deref()
            .is_none_or(|n| c.user.username.to_lowercase().contains(n))
    });
    creators.sort_by_key(|c| {
        Reverse(match sort {
            "downloads" => c.downloads,
            "favorites" => c.favorites,
            "models" => c.models,
            _ => c.tones,
        })
    });
    let items = creators.iter().map(wire::public_user).collect();
    Ok(Json(paginate(items, page, page_size)))
}
