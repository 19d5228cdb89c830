//! `gts.v1.ShootoutService`: shootouts and their signal chains, scoped to the caller.
//!
//! Contract: every RPC reads the caller from the request ([`require_user`]); an id owned by
//! someone else answers NOT_FOUND with the same message as a missing one. Mutations load
//! the shootout under a row lock, apply a pure edit ([`edit`]), validate the result
//! (field-level BadRequest details), write it back and return the whole new shootout.

use gts_common::identity::require_user;
use gts_proto::v1::{
    AddBlockRequest, AddBlockResponse, AddChainRequest, AddChainResponse, CreateShootoutRequest,
    CreateShootoutResponse, DeleteShootoutRequest, DeleteShootoutResponse, GetShootoutRequest,
    GetShootoutResponse, ListShootoutsRequest, ListShootoutsResponse, RemoveBlockRequest,
    RemoveBlockResponse, RemoveChainRequest, RemoveChainResponse, ReorderBlocksRequest,
    ReorderBlocksResponse, ReorderChainsRequest, ReorderChainsResponse, Shootout,
    UpdateBlockRequest, UpdateBlockResponse, UpdateChainRequest, UpdateChainResponse,
    UpdateShootoutRequest, UpdateShootoutResponse, shootout_service_server::ShootoutService,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    convert::{Cursor, List, page_size, parse_id},
    error::{ShootoutError, invalid},
    shootouts::{
        edit,
        store::{self, check_etag},
        validate::Checker,
    },
};

/// The `ShootoutService` handler.
pub struct ShootoutApi {
    db: PgPool,
}

impl ShootoutApi {
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }

    /// Loads shootout `id` of `owner` under a lock, applies `change`, validates, saves,
    /// and returns the stored result with whatever `change` returned.
    async fn mutate<T>(
        &self,
        owner: Uuid,
        id: Uuid,
        etag: &str,
        change: impl FnOnce(&mut Checker, &mut Shootout) -> Result<T, ShootoutError>,
    ) -> Result<(Shootout, T), ShootoutError> {
        let mut tx = self.db.begin().await?;
        let mut shootout = store::load_existing(&mut tx, owner, id, true).await?;
        check_etag(etag, &shootout.etag)?;
        let mut checker = Checker::new();
        let outcome = change(&mut checker, &mut shootout)?;
        checker.finish(&self.db, owner).await?;
        store::save(&mut tx, id, &shootout).await?;
        let saved = store::load_existing(&mut tx, owner, id, false).await?;
        tx.commit().await?;
        Ok((saved, outcome))
    }
}

fn ids(
    shootout_field: &str,
    shootout: &str,
    chain_field: &str,
    chain: &str,
) -> Result<(Uuid, Uuid), ShootoutError> {
    Ok((
        parse_id(shootout_field, shootout)?,
        parse_id(chain_field, chain)?,
    ))
}

#[tonic::async_trait]
impl ShootoutService for ShootoutApi {
    async fn create_shootout(
        &self,
        request: Request<CreateShootoutRequest>,
    ) -> Result<Response<CreateShootoutResponse>, Status> {
        let user = require_user(&request)?;
        let mut shootout = request
            .into_inner()
            .shootout
            .ok_or_else(|| invalid("shootout", "send the shootout to create"))?;
        let mut checker = Checker::new();
        checker.name("shootout", &shootout.name);
        for field in ["description", "guitar", "pickup_notes"] {
            let value = match field {
                "description" => &shootout.description,
                "guitar" => &shootout.guitar,
                _ => &shootout.pickup_notes,
            };
            checker.notes("shootout", field, value);
        }
        checker.di_tracks("shootout", &shootout.di_tracks);
        checker.chains("shootout", &shootout.chains);
        if let Some(options) = &shootout.output_options {
            checker.output_options("shootout", options);
        }
        checker.finish(&self.db, user.user_id).await?;
        edit::prepare_new(&mut shootout);

        let id = Uuid::now_v7();
        let mut tx = self.db.begin().await.map_err(ShootoutError::from)?;
        store::insert(&mut tx, user.user_id, id, &shootout).await?;
        store::write_children(&mut tx, id, &shootout).await?;
        let created = store::load_existing(&mut tx, user.user_id, id, false).await?;
        tx.commit().await.map_err(ShootoutError::from)?;
        Ok(Response::new(CreateShootoutResponse {
            shootout: Some(created),
        }))
    }

    async fn get_shootout(
        &self,
        request: Request<GetShootoutRequest>,
    ) -> Result<Response<GetShootoutResponse>, Status> {
        let user = require_user(&request)?;
        let id = parse_id("shootout_id", &request.get_ref().shootout_id)?;
        let mut tx = store::snapshot(&self.db).await?;
        let shootout = store::load_existing(&mut tx, user.user_id, id, false).await?;
        tx.commit().await.map_err(ShootoutError::from)?;
        Ok(Response::new(GetShootoutResponse {
            shootout: Some(shootout),
        }))
    }

    async fn list_shootouts(
        &self,
        request: Request<ListShootoutsRequest>,
    ) -> Result<Response<ListShootoutsResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.get_ref();
        let size = page_size("page_size", request.page_size)?;
        let after = Cursor::decode(List::Shootouts, "page_token", &request.page_token)?;
        let (shootouts, next) = store::list(&self.db, user.user_id, after, size).await?;
        Ok(Response::new(ListShootoutsResponse {
            shootouts,
            next_page_token: next.map(|c| c.encode(List::Shootouts)).unwrap_or_default(),
        }))
    }

    async fn update_shootout(
        &self,
        request: Request<UpdateShootoutRequest>,
    ) -> Result<Response<UpdateShootoutResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let new = request
            .shootout
            .ok_or_else(|| invalid("shootout", "send the new values and the shootout id"))?;
        let id = parse_id("shootout.id", &new.id)?;
        let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
        let (shootout, ()) = self
            .mutate(user.user_id, id, &new.etag, |checker, current| {
                edit::update_shootout(checker, current, &new, &paths);
                Ok(())
            })
            .await?;
        Ok(Response::new(UpdateShootoutResponse {
            shootout: Some(shootout),
        }))
    }

    async fn delete_shootout(
        &self,
        request: Request<DeleteShootoutRequest>,
    ) -> Result<Response<DeleteShootoutResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let id = parse_id("shootout_id", &request.shootout_id)?;
        let mut tx = self.db.begin().await.map_err(ShootoutError::from)?;
        let current = store::load_existing(&mut tx, user.user_id, id, true).await?;
        check_etag(&request.etag, &current.etag)?;
        store::delete(&mut tx, id).await?;
        tx.commit().await.map_err(ShootoutError::from)?;
        Ok(Response::new(DeleteShootoutResponse {}))
    }

    async fn add_chain(
        &self,
        request: Request<AddChainRequest>,
    ) -> Result<Response<AddChainResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let id = parse_id("shootout_id", &request.shootout_id)?;
        let chain = request
            .chain
            .ok_or_else(|| invalid("chain", "send the chain to add"))?;
        let (shootout, chain_id) = self
            .mutate(user.user_id, id, &request.etag, |checker, shootout| {
                edit::add_chain(checker, shootout, chain, request.position)
            })
            .await?;
        Ok(Response::new(AddChainResponse {
            shootout: Some(shootout),
            chain_id,
        }))
    }

    async fn update_chain(
        &self,
        request: Request<UpdateChainRequest>,
    ) -> Result<Response<UpdateChainResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let new = request
            .chain
            .ok_or_else(|| invalid("chain", "send the new values and the chain id"))?;
        let (id, chain_id) = ids("shootout_id", &request.shootout_id, "chain.id", &new.id)?;
        let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
        let (shootout, ()) = self
            .mutate(user.user_id, id, &request.etag, |checker, shootout| {
                let index = edit::chain_index(shootout, chain_id)?;
                edit::update_chain(checker, shootout, index, &new, &paths);
                Ok(())
            })
            .await?;
        Ok(Response::new(UpdateChainResponse {
            shootout: Some(shootout),
        }))
    }

    async fn remove_chain(
        &self,
        request: Request<RemoveChainRequest>,
    ) -> Result<Response<RemoveChainResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let (id, chain_id) = ids(
            "shootout_id",
            &request.shootout_id,
            "chain_id",
            &request.chain_id,
        )?;
        let (shootout, ()) = self
            .mutate(user.user_id, id, &request.etag, |_, shootout| {
                let index = edit::chain_index(shootout, chain_id)?;
                edit::remove_chain(shootout, index)
            })
            .await?;
        Ok(Response::new(RemoveChainResponse {
            shootout: Some(shootout),
        }))
    }

    async fn reorder_chains(
        &self,
        request: Request<ReorderChainsRequest>,
    ) -> Result<Response<ReorderChainsResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let id = parse_id("shootout_id", &request.shootout_id)?;
        let (shootout, ()) = self
            .mutate(user.user_id, id, &request.etag, |_, shootout| {
                edit::reorder_chains(shootout, &request.chain_ids)
            })
            .await?;
        Ok(Response::new(ReorderChainsResponse {
            shootout: Some(shootout),
        }))
    }

    async fn add_block(
        &self,
        request: Request<AddBlockRequest>,
    ) -> Result<Response<AddBlockResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let (id, chain_id) = ids(
            "shootout_id",
            &request.shootout_id,
            "chain_id",
            &request.chain_id,
        )?;
        let block = request
            .block
            .ok_or_else(|| invalid("block", "send the block to add"))?;
        let (shootout, block_id) = self
            .mutate(user.user_id, id, &request.etag, |checker, shootout| {
                let chain = edit::chain_mut(shootout, chain_id)?;
                edit::add_block(checker, chain, block, request.position)
            })
            .await?;
        Ok(Response::new(AddBlockResponse {
            shootout: Some(shootout),
            block_id,
        }))
    }

    async fn update_block(
        &self,
        request: Request<UpdateBlockRequest>,
    ) -> Result<Response<UpdateBlockResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let (id, chain_id) = ids(
            "shootout_id",
            &request.shootout_id,
            "chain_id",
            &request.chain_id,
        )?;
        let block = request
            .block
            .ok_or_else(|| invalid("block", "send the block's new settings and its id"))?;
        let block_id = parse_id("block.id", &block.id)?;
        let (shootout, ()) = self
            .mutate(user.user_id, id, &request.etag, |checker, shootout| {
                let chain = edit::chain_mut(shootout, chain_id)?;
                let block_index = edit::block_index(chain, block_id)?;
                edit::update_block(checker, chain, block_index, &block);
                Ok(())
            })
            .await?;
        Ok(Response::new(UpdateBlockResponse {
            shootout: Some(shootout),
        }))
    }

    async fn remove_block(
        &self,
        request: Request<RemoveBlockRequest>,
    ) -> Result<Response<RemoveBlockResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let (id, chain_id) = ids(
            "shootout_id",
            &request.shootout_id,
            "chain_id",
            &request.chain_id,
        )?;
        let block_id = parse_id("block_id", &request.block_id)?;
        let (shootout, ()) = self
            .mutate(user.user_id, id, &request.etag, |_, shootout| {
                let chain = edit::chain_mut(shootout, chain_id)?;
                let block_index = edit::block_index(chain, block_id)?;
                chain.blocks.remove(block_index);
                Ok(())
            })
            .await?;
        Ok(Response::new(RemoveBlockResponse {
            shootout: Some(shootout),
        }))
    }

    async fn reorder_blocks(
        &self,
        request: Request<ReorderBlocksRequest>,
    ) -> Result<Response<ReorderBlocksResponse>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let (id, chain_id) = ids(
            "shootout_id",
            &request.shootout_id,
            "chain_id",
            &request.chain_id,
        )?;
        let (shootout, ()) = self
            .mutate(user.user_id, id, &request.etag, |_, shootout| {
                let chain = edit::chain_mut(shootout, chain_id)?;
                edit::reorder_blocks(chain, &request.block_ids)
            })
            .await?;
        Ok(Response::new(ReorderBlocksResponse {
            shootout: Some(shootout),
        }))
    }
}
