//! `gts.v1.ShootoutInternal`: the render specification the worker freezes into a job.
//!
//! Contract: only a service credential may call it ([`require_service`]); the shootout is
//! read as the user the job runs for (another user's id answers NOT_FOUND); every DI track
//! and every NAM/IR block is resolved to a concrete source: an object-store key (with the
//! blob's SHA-256 and size, which the worker verifies) for uploads, or a TONE3000 model
//! download (its `model_url`, read from TONE3000 with the user's token and cached briefly) for
//! library models. A referenced asset that has vanished, or a library model that is not part
//! of the tone the block names, is FAILED_PRECONDITION. Every resolved block also carries its
//! display metadata (tone title, model name, size, architecture, makes, author; or the
//! upload's file name), so the render names gear, never ids; a tone whose details cannot be
//! read falls back to the model's name rather than failing the render.

use chrono::Utc;
use gts_common::identity::require_service;
use gts_proto::v1::{
    ArchitectureVersion, BlockDisplay, GetRenderSpecRequest, GetRenderSpecResponse,
    GetToneResponse, Model, ModelSize, ModelSource, RenderSpec, ResolvedBlockSource,
    ResolvedDiTrack, ResolvedSource, Tone, Tone3000Download, ToneGear, block::Kind,
    model_source::Source, resolved_source, shootout_internal_server::ShootoutInternal,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    assets::store as assets,
    convert::{parse_id, timestamp},
    error::ShootoutError,
    library::{LibraryContext, convert, upstream_error},
    shootouts::store,
};

/// The `ShootoutInternal` handler.
pub struct ShootoutInternalApi {
    db: PgPool,
    /// TONE3000 access as the shootout's owner, to find library models' file URLs.
    library: LibraryContext,
}

impl ShootoutInternalApi {
    pub fn new(db: PgPool, library: LibraryContext) -> Self {
        Self { db, library }
    }

    /// Library model `model_id` of `tone_id` (with its download URL), as `owner` sees it.
    async fn library_model(
        &self,
        client: &mut Option<tone3000::Client>,
        owner: Uuid,
        tone_id: u64,
        model_id: u64,
    ) -> Result<Model, ShootoutError> {
        let params = model_id.to_string();
        let model: Model = match self.library.cached(owner, "model", &params).await {
            Some(model) => model,
            None => {
                if client.is_none() {
                    *client = Some(self.library.client_for(owner).await?);
                }
                let Some(api) = client.as_ref() else {
                    return Err(ShootoutError::Unavailable("TONE3000 client missing".into()));
                };
                let model = api
                    .model(tone3000::ModelId(model_id))
                    .await
                    .map_err(|e| match upstream_error(e, "TONE3000 model") {
                        // The shootout exists; the model it names does not (any more).
                        ShootoutError::NotFound(_) => ShootoutError::FailedPrecondition(format!(
                            "TONE3000 model {model_id} of tone {tone_id} no longer exists or is \
                             private; pick another model for that block"
                        )),
                        other => other,
                    })
                    .map(convert::model)?;
                self.library.remember(owner, "model", &params, &model).await;
                model
            }
        };
        if model.tone_id != tone_id {
            return Err(ShootoutError::FailedPrecondition(format!(
                "TONE3000 model {model_id} belongs to tone {}, not tone {tone_id}; fix the block",
                model.tone_id
            )));
        }
        Ok(model)
    }

    /// Tone `tone_id` as `owner` sees it (shares the library's cache of GetTone answers),
    /// or `None` when it cannot be read: it only names things.
    async fn library_tone(
        &self,
        client: &mut Option<tone3000::Client>,
        owner: Uuid,
        tone_id: u64,
    ) -> Option<Tone> {
        let params = tone_id.to_string();
        if let Some(hit) = self
            .library
            .cached::<GetToneResponse>(owner, "tone", &params)
            .await
        {
            return hit.tone;
        }
        if client.is_none() {
            *client = self.library.client_for(owner).await.ok();
        }
        let tone = match client.as_ref()?.tone(tone3000::ToneId(tone_id)).await {
            Ok(tone) => convert::tone(tone),
            Err(error) => {
                tracing::warn!(tone_id, %error, "TONE3000 tone details unavailable; naming by model");
                return None;
            }
        };
        let answer = GetToneResponse { tone: Some(tone) };
        self.library.remember(owner, "tone", &params, &answer).await;
        answer.tone
    }
}

/// An enum's proto name without its prefix, in lower case: `TONE_GEAR_AMP` → `amp`.
fn enum_word(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_lowercase()
        .replace('_', " ")
}

/// What a library model is called: its tone's title, its own name and details.
fn library_display(model: &Model, tone: Option<&Tone>) -> BlockDisplay {
    let size = ModelSize::try_from(model.size)
        .ok()
        .filter(|s| *s != ModelSize::Unspecified)
        .map(|s| enum_word(s.as_str_name(), "MODEL_SIZE_"))
        .unwrap_or_default();
    let architecture = match ArchitectureVersion::try_from(model.architecture_version) {
        Ok(ArchitectureVersion::A1) => "A1".to_owned(),
        Ok(ArchitectureVersion::A2) => "A2".to_owned(),
        Ok(ArchitectureVersion::Custom) => "custom".to_owned(),
        _ => String::new(),
    };
    BlockDisplay {
        name: tone.map_or_else(|| model.name.clone(), |t| t.title.clone()),
        model_name: if tone.is_some() {
            model.name.clone()
        } else {
            String::new()
        },
        gear: tone
            .and_then(|t| ToneGear::try_from(t.gear).ok())
            .filter(|g| *g != ToneGear::Unspecified)
            .map(|g| enum_word(g.as_str_name(), "TONE_GEAR_"))
            .unwrap_or_default(),
        size,
        architecture,
        makes: tone
            .map(|t| t.makes.iter().map(|m| m.name.clone()).collect())
            .unwrap_or_default(),
        author: tone
            .and_then(|t| t.user.as_ref())
            .map(|u| u.username.clone())
            .unwrap_or_default(),
    }
}

fn missing(asset_id: &str) -> ShootoutError {
    ShootoutError::FailedPrecondition(format!(
        "asset {asset_id} used by this shootout no longer exists; fix the shootout first"
    ))
}

#[tonic::async_trait]
impl ShootoutInternal for ShootoutInternalApi {
    async fn get_render_spec(
        &self,
        request: Request<GetRenderSpecRequest>,
    ) -> Result<Response<GetRenderSpecResponse>, Status> {
        require_service(&request)?;
        let request = request.get_ref();
        let id = parse_id("shootout_id", &request.shootout_id)?;
        let owner = parse_id("user_id", &request.user_id)?;
        // The shootout and its assets from one snapshot: a concurrent DeleteShootout or
        // update is either wholly before this read or wholly after it, never half-seen.
        let mut tx = store::snapshot(&self.db).await?;
        let shootout = store::load_existing(&mut tx, owner, id, false).await?;

        let sources: Vec<(&str, &str, &ModelSource)> = shootout
            .chains
            .iter()
            .flat_map(|chain| {
                chain.blocks.iter().filter_map(move |block| {
                    let source = match &block.kind {
                        Some(Kind::NamModel(nam)) => nam.source.as_ref(),
                        Some(Kind::CabinetIr(ir)) => ir.source.as_ref(),
                        _ => None,
                    }?;
                    Some((chain.id.as_str(), block.id.as_str(), source))
                })
            })
            .collect();
        let mut asset_ids: Vec<Uuid> = shootout
            .di_tracks
            .iter()
            .filter_map(|t| Uuid::parse_str(&t.asset_id).ok())
            .collect();
        asset_ids.extend(sources.iter().filter_map(|(_, _, s)| match &s.source {
            Some(Source::AssetId(id)) => Uuid::parse_str(id).ok(),
            _ => None,
        }));
        let blobs = assets::owned_blobs(&mut tx, owner, &asset_ids).await?;
        tx.commit().await.map_err(ShootoutError::from)?;

        let mut di_tracks = Vec::with_capacity(shootout.di_tracks.len());
        for track in &shootout.di_tracks {
            let blob = blobs
                .get(&track.asset_id)
                .ok_or_else(|| missing(&track.asset_id))?;
            di_tracks.push(ResolvedDiTrack {
                asset_id: track.asset_id.clone(),
                label: if track.label.is_empty() {
                    blob.filename.clone()
                } else {
                    track.label.clone()
                },
                object: Some(blob.object.clone()),
            });
        }
        let mut block_sources = Vec::with_capacity(sources.len());
        let mut tone3000_client = None;
        for (chain_id, block_id, source) in sources {
            let (resolved, display) = match &source.source {
                Some(Source::AssetId(asset_id)) => {
                    let blob = blobs.get(asset_id).ok_or_else(|| missing(asset_id))?;
                    (
                        resolved_source::Source::ObjectStoreKey(blob.object.clone()),
                        BlockDisplay {
                            name: blob.filename.clone(),
                            ..BlockDisplay::default()
                        },
                    )
                }
                Some(Source::Tone3000Model(model)) => {
                    let found = self
                        .library_model(&mut tone3000_client, owner, model.tone_id, model.model_id)
                        .await?;
                    let tone = self
                        .library_tone(&mut tone3000_client, owner, model.tone_id)
                        .await;
                    (
                        resolved_source::Source::Tone3000Download(Tone3000Download {
                            tone_id: model.tone_id,
                            model_id: model.model_id,
                            download_url: found.model_url.clone(),
                            sha256: None,
                        }),
                        library_display(&found, tone.as_ref()),
                    )
                }
                None => {
                    return Err(ShootoutError::FailedPrecondition(format!(
                        "block {block_id} has no source; fix the shootout first"
                    ))
                    .into());
                }
            };
            block_sources.push(ResolvedBlockSource {
                chain_id: chain_id.to_owned(),
                block_id: block_id.to_owned(),
                source: Some(ResolvedSource {
                    source: Some(resolved),
                }),
                display: Some(display),
            });
        }
        Ok(Response::new(GetRenderSpecResponse {
            spec: Some(RenderSpec {
                shootout: Some(shootout.clone()),
                di_tracks,
                block_sources,
                resolved_at: Some(timestamp(Utc::now())),
            }),
        }))
    }
}
