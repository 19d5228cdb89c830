//! JSON shapes of the real TONE3000 v1 API, built from catalogue records.
//!
//! Contract: field names and the two tone shapes follow the `tone3000` crate's types and
//! fixtures. Search results omit `license`, `sizes`, `links` and `is_public`, carry
//! makes/tags without ids, and count models across architectures; tone detail carries
//! all of those and counts architecture-1 models only (a quirk of the real API).

use serde_json::{Value, json};

use crate::catalogue::{Catalogue, FakeUser, ModelRecord, ToneRecord};

const SITE: &str = "https://www.tone3000.com";
const ACCOUNT_CREATED_AT: &str = "2026-06-03T17:29:54.434431+00:00";

/// The authenticated user's profile (`GET /user`).
pub(crate) fn user(user: &FakeUser) -> Value {
    json!({
        "id": user.id,
        "avatar_url": null,
        "username": user.username,
        "bio": null,
        "links": null,
        "created_at": ACCOUNT_CREATED_AT,
        "updated_at": ACCOUNT_CREATED_AT,
        "url": profile_url(&user.username),
    })
}

fn profile_url(username: &str) -> String {
    // The real API really does emit the double slash.
    format!("{SITE}//{username}")
}

fn embedded_user(user: &FakeUser) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "avatar_url": null,
        "url": profile_url(&user.username),
    })
}

fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

struct Counts {
    a1: u64,
    a2: u64,
    custom: u64,
    irs: u64,
}

fn counts(catalogue: &Catalogue, tone_id: u64) -> Counts {
    let mut c = Counts {
        a1: 0,
        a2: 0,
        custom: 0,
        irs: 0,
    };
    for m in catalogue.models_of(tone_id) {
        match m.architecture {
            Some("1") => c.a1 += 1,
            Some("2") => c.a2 += 1,
            Some(_) => c.custom += 1,
            None => c.irs += 1,
        }
    }
    c
}

/// Distinct size classes across a tone's models, in first-seen order.
pub(crate) fn sizes(catalogue: &Catalogue, tone_id: u64) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for size in catalogue.models_of(tone_id).filter_map(|m| m.size) {
        if !out.contains(&size) {
            out.push(size);
        }
    }
    out
}

fn common(tone: &ToneRecord, c: &Counts) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    let fields = [
        ("id", json!(tone.id)),
        ("user_id", json!(tone.owner.id)),
        ("user", embedded_user(&tone.owner)),
        ("title", json!(tone.title)),
        ("description", json!(tone.description)),
        ("gear", json!(tone.gear)),
        ("format", json!(tone.format)),
        ("images", Value::Null),
        ("created_at", json!(tone.created_at)),
        ("updated_at", json!(tone.created_at)),
        (
            "url",
            json!(format!("{SITE}//{}-{}", slug(&tone.title), tone.id)),
        ),
        ("favorites_count", json!(tone.favorites_count)),
        ("downloads_count", json!(tone.downloads_count)),
        ("a1_models_count", json!(c.a1)),
        ("a2_models_count", json!(c.a2)),
        ("irs_count", json!(c.irs)),
        ("custom_models_count", json!(c.custom)),
    ];
    for (k, v) in fields {
        map.insert(k.to_owned(), v);
    }
    map
}

/// A tone as `/tones/search` returns it.
pub(crate) fn tone_summary(catalogue: &Catalogue, tone: &ToneRecord) -> Value {
    let c = counts(catalogue, tone.id);
    let mut map = common(tone, &c);
    let named = |items: &[(u64, String)]| -> Value {
        items.iter().map(|(_, n)| json!({ "name": n })).collect()
    };
    map.insert("makes".into(), named(&tone.makes));
    map.insert("tags".into(), named(&tone.tags));
    // Search counts every architecture (and IRs).
    map.insert("models_count".into(), json!(c.a1 + c.a2 + c.custom + c.irs));
    Value::Object(map)
}

/// A tone as `/tones/{id}`, `/tones/created` and `/tones/favorited` return it.
pub(crate) fn tone_detail(catalogue: &Catalogue, tone: &ToneRecord) -> Value {
    let c = counts(catalogue, tone.id);
    let mut map = common(tone, &c);
    let identified = |items: &[(u64, String)]| -> Value {
        items
            .iter()
            .map(|(id, n)| json!({ "id": id, "name": n }))
            .collect()
    };
    map.insert("makes".into(), identified(&tone.makes));
    map.insert("tags".into(), identified(&tone.tags));
    map.insert("license".into(), json!(tone.license));
    map.insert("sizes".into(), json!(sizes(catalogue, tone.id)));
    map.insert("links".into(), json!(tone.links));
    map.insert("is_public".into(), json!(tone.is_public));
    // Detail counts architecture 1 only (IR tones count their IRs).
    let detail_count = if tone.format == "ir" { c.irs } else { c.a1 };
    map.insert("models_count".into(), json!(detail_count));
    Value::Object(map)
}

/// The download URL of a model, under the fake's public API base.
pub(crate) fn model_url(api_base: &str, model: &ModelRecord) -> String {
    format!(
        "{api_base}/models/{}/download/{}",
        model.id, model.file_name
    )
}

/// A model as `/models` and `/models/{id}` return it.
pub(crate) fn model(api_base: &str, model: &ModelRecord) -> Value {
    json!({
        "id": model.id,
        "tone_id": model.tone_id,
        "user_id": model.owner_id,
        "created_at": model.created_at,
        "updated_at": model.created_at,
        "name": model.name,
        "model_url": model_url(api_base, model),
        "size": model.size,
        "architecture_version": model.architecture,
    })
}

/// A creator's public metrics, summed over their public tones.
pub(crate) struct CreatorStats {
    pub user: FakeUser,
    pub tones: u64,
    pub models: u64,
    pub downloads: u64,
    pub favorites: u64,
}

impl CreatorStats {
    pub(crate) fn new(user: FakeUser) -> Self {
        Self {
            user,
            tones: 0,
            models: 0,
            downloads: 0,
            favorites: 0,
        }
    }

    pub(crate) fn add(&mut self, tone: &ToneRecord, models: u64) {
        self.tones += 1;
        self.models += models;
        self.downloads += tone.downloads_count;
        self.favorites += tone.favorites_count;
    }
}

/// A user as the `/users` directory returns it.
pub(crate) fn public_user(stats: &CreatorStats) -> Value {
    json!({
        "id": stats.user.id,
        "username": stats.user.username,
        "bio": null,
        "links": [],
        "avatar_url": null,
        "downloads_count": stats.downloads,
        "favorites_count": stats.favorites,
        "models_count": stats.models,
        "tones_count": stats.tones,
        "url": profile_url(&stats.user.username),
    })
}

/// The paginated envelope every list endpoint uses.
pub(crate) fn page(data: Vec<Value>, page: u32, page_size: u32, total: usize) -> Value {
    let total_pages = total.div_ceil(page_size.max(1) as usize);
    json!({
        "data": data,
        "page": page,
        "page_size": page_size,
        "total": total,
        "total_pages": total_pages,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn slug_is_lowercase_dashed() {
        assert_eq!(
            slug("Marshall JCM800 2203 Crunch"),
            "marshall-jcm800-2203-crunch"
        );
        assert_eq!(
            slug("Friedman BE-100 (unreleased)"),
            "friedman-be-100-unreleased"
        );
    }

    #[test]
    fn page_counts_pages_like_the_real_api() {
        let p = page(vec![], 1, 2, 3);
        assert_eq!(p["total_pages"], 2);
        let empty = page(vec![], 1, 10, 0);
        assert_eq!(empty["total_pages"], 0);
    }
}
