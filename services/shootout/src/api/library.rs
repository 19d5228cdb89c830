//! `gts.v1.LibraryService`: TONE3000 search and listings with the caller's token.
//!
//! Contract: each RPC validates its paging (page_size ≤ 100), looks in the short-lived
//! per-user cache, else calls TONE3000 as the caller and caches the answer. Errors follow
//! [`crate::library::upstream_error`].

use gts_common::identity::require_user;
use gts_proto::v1::{
    ArchitectureVersion, GetToneRequest, GetToneResponse, LibraryPage, LibraryPageInfo,
    ListCreatedTonesRequest, ListCreatedTonesResponse, ListFavoriteTonesRequest,
    ListFavoriteTonesResponse, ListModelsRequest, ListModelsResponse, ModelSize,
    SearchTonesRequest, SearchTonesResponse, Tone, ToneFormat, ToneGear, ToneSort,
    library_service_server::LibraryService,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    error::{ShootoutError, Violations, invalid},
    library::{LibraryContext, convert, upstream_error},
};

/// The `LibraryService` handler.
pub struct LibraryApi {
    context: LibraryContext,
}

impl LibraryApi {
    pub fn new(context: LibraryContext) -> Self {
        Self { context }
    }
}

/// The caller's own tone listings.
#[derive(Clone, Copy)]
enum ToneListKind {
    Created,
    Favorited,
}

impl LibraryApi {
    /// One page of the caller's created or favorited tones, cached.
    async fn tone_list(
        &self,
        user: Uuid,
        kind: ToneListKind,
        page: Option<LibraryPage>,
    ) -> Result<(Vec<Tone>, LibraryPageInfo), ShootoutError> {
        let (number, size) = paging(page.as_ref())?;
        let endpoint = match kind {
            ToneListKind::Created => "created",
            ToneListKind::Favorited => "favorites",
        };
        let params = format!("{number:?}/{size:?}");
        if let Some(hit) = self
            .context
            .cached::<ListCreatedTonesResponse>(user, endpoint, &params)
            .await
        {
            return Ok((hit.tones, hit.page_info.unwrap_or_default()));
        }
        let client = self.context.client_for(user).await?;
        let mut list = match kind {
            ToneListKind::Created => client.created(),
            ToneListKind::Favorited => client.favorited(),
        };
        if let Some(number) = number {
            list = list.page(number);
        }
        if let Some(size) = size {
            list = list.page_size(size);
        }
        let found = list.await.map_err(|e| upstream_error(e, "tone"))?;
        // Both listings share one message shape for the cache.
        let answer = ListCreatedTonesResponse {
            page_info: Some(convert::page_info(&found)),
            tones: found.data.into_iter().map(convert::tone).collect(),
        };
        self.context
            .remember(user, endpoint, &params, &answer)
            .await;
        Ok((answer.tones, answer.page_info.unwrap_or_default()))
    }
}

/// Page number and size to send (None: TONE3000's default).
fn paging(page: Option<&LibraryPage>) -> Result<(Option<u32>, Option<u32>), ShootoutError> {
    let page = page.copied().unwrap_or_default();
    if page.page_size > 100 {
        return Err(invalid(
            "page.page_size",
            "at most 100 items per page; ask for fewer",
        ));
    }
    Ok((
        Some(page.page.max(1)),
        (page.page_size > 0).then_some(page.page_size),
    ))
}

/// Longest free-text search query.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most tags (and most makes) one search may filter by.
pub const MAX_FILTER_VALUES: usize = 20;
/// Longest tag or make name.
pub const MAX_FILTER_CHARS: usize = 100;

fn enum_value<E: TryFrom<i32>>(violations: &mut Violations, field: String, raw: i32) -> Option<E> {
    let value = E::try_from(raw).ok();
    if value.is_none() {
        violations.add(field, format!("{raw} is not a known value"));
    }
    value
}

#[tonic::async_trait]
impl LibraryService for LibraryApi {
    async fn search_tones(
        &self,
        request: Request<SearchTonesRequest>,
    ) -> Result<Response<SearchTonesResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let (page, page_size) = paging(request.page.as_ref())?;
        let mut violations = Violations::default();
        let gears: Vec<ToneGear> = request
            .gears
            .iter()
            .enumerate()
            .filter_map(|(i, g)| enum_value(&mut violations, format!("gears[{i}]"), *g))
            .collect();
        let sizes: Vec<ModelSize> = request
            .sizes
            .iter()
            .enumerate()
            .filter_map(|(i, s)| enum_value(&mut violations, format!("sizes[{i}]"), *s))
            .collect();
        let format: Option<ToneFormat> =
            enum_value(&mut violations, "format".into(), request.format);
        let sort: Option<ToneSort> = enum_value(&mut violations, "sort".into(), request.sort);
        if request.query.chars().count() > MAX_QUERY_CHARS {
            violations.add(
                "query",
                format!("the query is too long; use at most {MAX_QUERY_CHARS} characters"),
            );
        }
        for (field, values) in [("tags", &request.tags), ("makes", &request.makes)] {
            if values.len() > MAX_FILTER_VALUES {
                violations.add(
                    field,
                    format!("at most {MAX_FILTER_VALUES} values; drop some"),
                );
            }
            for (i, value) in values.iter().enumerate().take(MAX_FILTER_VALUES) {
                if value.chars().count() > MAX_FILTER_CHARS {
                    violations.add(
                        format!("{field}[{i}]"),
                        format!("too long; use at most {MAX_FILTER_CHARS} characters"),
                    );
                }
            }
        }
        violations.into_result()?;

        let params = format!("{request:?}");
        if let Some(hit) = self.context.cached(user.user_id, "search", &params).await {
            return Ok(Response::new(hit));
        }
        let client = self.context.client_for(user.user_id).await?;
        let mut search = client.tones();
        if !request.query.trim().is_empty() {
            search = search.query(request.query.trim());
        }
        search = search.gears(gears.into_iter().filter_map(convert::gear_to_wire));
        search = search.sizes(sizes.into_iter().filter_map(convert::size_to_wire));
        if let Some(format) = format.and_then(convert::format_to_wire) {
            search = search.format(format);
        }
        if let Some(sort) = sort.and_then(convert::sort_to_wire) {
            search = search.sort(sort);
        }
        if !request.tags.is_empty() {
            search = search.tags(request.tags.iter().cloned());
        }
        if !request.makes.is_empty() {
            search = search.makes(request.makes.iter().cloned());
        }
        if let Some(page) = page {
            search = search.page(page);
        }
        if let Some(size) = page_size {
            search = search.page_size(size);
        }
        let found = search.await.map_err(|e| upstream_error(e, "tone"))?;
        let answer = SearchTonesResponse {
            page_info: Some(convert::page_info(&found)),
            tones: found.data.into_iter().map(convert::tone).collect(),
        };
        self.context
            .remember(user.user_id, "search", &params, &answer)
            .await;
        Ok(Response::new(answer))
    }

    async fn list_created_tones(
        &self,
        request: Request<ListCreatedTonesRequest>,
    ) -> Result<Response<ListCreatedTonesResponse>, Status> {
        let user = require_user(&request)?;
        let (tones, page_info) = self
            .tone_list(user.user_id, ToneListKind::Created, request.get_ref().page)
            .await?;
        Ok(Response::new(ListCreatedTonesResponse {
            tones,
            page_info: Some(page_info),
        }))
    }

    async fn list_favorite_tones(
        &self,
        request: Request<ListFavoriteTonesRequest>,
    ) -> Result<Response<ListFavoriteTonesResponse>, Status> {
        let user = require_user(&request)?;
        let (tones, page_info) = self
            .tone_list(
                user.user_id,
                ToneListKind::Favorited,
                request.get_ref().page,
            )
            .await?;
        Ok(Response::new(ListFavoriteTonesResponse {
            tones,
            page_info: Some(page_info),
        }))
    }

    async fn get_tone(
        &self,
        request: Request<GetToneRequest>,
    ) -> Result<Response<GetToneResponse>, Status> {
        let user = require_user(&request)?;
        let tone_id = request.get_ref().tone_id;
        if tone_id == 0 {
            return Err(invalid("tone_id", "give the TONE3000 tone id").into());
        }
        let params = tone_id.to_string();
        if let Some(hit) = self.context.cached(user.user_id, "tone", &params).await {
            return Ok(Response::new(hit));
        }
        let client = self.context.client_for(user.user_id).await?;
        let tone = client
            .tone(tone3000::ToneId(tone_id))
            .await
            .map_err(|e| upstream_error(e, "tone"))?;
        let answer = GetToneResponse {
            tone: Some(convert::tone(tone)),
        };
        self.context
            .remember(user.user_id, "tone", &params, &answer)
            .await;
        Ok(Response::new(answer))
    }

    async fn list_models(
        &self,
        request: Request<ListModelsRequest>,
    ) -> Result<Response<ListModelsResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        if request.tone_id == 0 {
            return Err(invalid("tone_id", "give the TONE3000 tone id").into());
        }
        let (page, page_size) = paging(request.page.as_ref())?;
        let mut violations = Violations::default();
        let architecture: Option<ArchitectureVersion> = enum_value(
            &mut violations,
            "architecture_version".into(),
            request.architecture_version,
        );
        violations.into_result()?;
        let params = format!("{request:?}");
        if let Some(hit) = self.context.cached(user.user_id, "models", &params).await {
            return Ok(Response::new(hit));
        }
        let client = self.context.client_for(user.user_id).await?;
        let mut list = client.models(tone3000::ToneId(request.tone_id));
        if let Some(version) = architecture.and_then(convert::architecture_to_wire) {
            list = list.architecture(version);
        }
        if let Some(page) = page {
            list = list.page(page);
        }
        if let Some(size) = page_size {
            list = list.page_size(size);
        }
        let found = list.await.map_err(|e| upstream_error(e, "tone"))?;
        let page_info = convert::page_info(&found);
        let mut models = Vec::with_capacity(found.data.len());
        for model in found.data {
            // The calibration lives in the file, not in TONE3000's listing: read it (the
            // answer is cached like every library answer).
            let calibration = match client.download_model_json(&model).await {
                Ok(json) => Some(convert::calibration(
                    &gts_render::nam_metadata::read_metadata(&json),
                )),
                Err(error) => {
                    tracing::debug!(%error, model = model.id.0, "cannot read a model's metadata");
                    None
                }
            };
            models.push(gts_proto::v1::Model {
                calibration,
                ..convert::model(model)
            });
        }
        let answer = ListModelsResponse {
            page_info: Some(page_info),
            models,
        };
        self.context
            .remember(user.user_id, "models", &params, &answer)
            .await;
        Ok(Response::new(answer))
    }
}
