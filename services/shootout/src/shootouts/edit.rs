//! Pure edits of a loaded shootout: field masks, chain and block insertion, removal and
//! reordering, and server-assigned ids.
//!
//! Contract: each function changes the aggregate in memory and records what is wrong with
//! the request in the [`Checker`] (field paths relative to the request); the caller
//! validates the result and writes it back in the same transaction. Ids a client sends for
//! new chains and blocks are ignored and replaced.

use std::collections::HashSet;

use gts_proto::v1::{Block, Shootout, SignalChain};
use uuid::Uuid;

use super::validate::{Checker, MAX_BLOCKS, MAX_CHAINS, with_defaults};
use crate::error::{ShootoutError, invalid};

/// Paths `UpdateShootout` accepts.
const SHOOTOUT_PATHS: &[&str] = &[
    "name",
    "description",
    "guitar",
    "pickup_notes",
    "di_tracks",
    "output_options",
    "output_options.loudness_target_lufs",
    "output_options.phrase_length_seconds",
    "output_options.video_enabled",
    "output_options.input_level_dbfs",
    "output_options.di_calibration_dbu",
];

/// Paths `UpdateChain` accepts.
const CHAIN_PATHS: &[&str] = &[
    "display_name",
    "description",
    "blocks",
    "input_high_pass_hz",
    "input_level_mode",
];

fn new_id() -> String {
    Uuid::now_v7().to_string()
}

/// Gives a new chain and its blocks fresh ids, and fills in the chain's defaults.
pub fn assign_chain_ids(chain: &mut SignalChain) {
    chain
        .input_high_pass_hz
        .get_or_insert(super::validate::DEFAULT_INPUT_HIGH_PASS_HZ);
    chain.id = new_id();
    for block in &mut chain.blocks {
        block.id = new_id();
    }
}

/// Prepares a shootout for creation: ids assigned, defaults filled in.
pub fn prepare_new(shootout: &mut Shootout) {
    for chain in &mut shootout.chains {
        assign_chain_ids(chain);
    }
    shootout.output_options = Some(with_defaults(shootout.output_options.take()));
}

/// Checks a field mask against the allowed paths; records each unknown path.
fn mask_paths<'a>(checker: &mut Checker, paths: &'a [String], allowed: &[&str]) -> Vec<&'a str> {
    if paths.is_empty() {
        checker.violations.add(
            "update_mask",
            format!("name the fields to change; allowed: {}", allowed.join(", ")),
        );
    }
    let mut accepted = vec![];
    for (index, path) in paths.iter().enumerate() {
        if allowed.contains(&path.as_str()) {
            accepted.push(path.as_str());
        } else {
            checker.violations.add(
                format!("update_mask.paths[{index}]"),
                format!(
                    "{} cannot be updated here; allowed: {}",
                    crate::convert::shown(path),
                    allowed.join(", ")
                ),
            );
        }
    }
    accepted
}

/// Applies `UpdateShootout`: copies the masked fields of `new` into `current`.
pub fn update_shootout(
    checker: &mut Checker,
    current: &mut Shootout,
    new: &Shootout,
    paths: &[String],
) {
    let new_options = new.output_options.unwrap_or_default();
    for path in mask_paths(checker, paths, SHOOTOUT_PATHS) {
        let mut options = current.output_options.unwrap_or_default();
        match path {
            "name" => {
                checker.name("shootout", &new.name);
                current.name.clone_from(&new.name);
            }
            "description" => {
                checker.notes("shootout", "description", &new.description);
                current.description.clone_from(&new.description);
            }
            "guitar" => {
                checker.notes("shootout", "guitar", &new.guitar);
                current.guitar.clone_from(&new.guitar);
            }
            "pickup_notes" => {
                checker.notes("shootout", "pickup_notes", &new.pickup_notes);
                current.pickup_notes.clone_from(&new.pickup_notes);
            }
            "di_tracks" => {
                checker.di_tracks("shootout", &new.di_tracks);
                current.di_tracks.clone_from(&new.di_tracks);
            }
            "output_options" => {
                checker.output_options("shootout", &new_options);
                options = with_defaults(Some(new_options));
            }
            "output_options.loudness_target_lufs" => {
                checker.output_options("shootout", &new_options);
                options.loudness_target_lufs = new_options.loudness_target_lufs;
            }
            "output_options.phrase_length_seconds" => {
                checker.output_options("shootout", &new_options);
                options.phrase_length_seconds = new_options.phrase_length_seconds;
            }
            "output_options.input_level_dbfs" => {
                checker.output_options("shootout", &new_options);
                options.input_level_dbfs = new_options.input_level_dbfs;
            }
            "output_options.di_calibration_dbu" => {
                checker.output_options("shootout", &new_options);
                options.di_calibration_dbu = new_options.di_calibration_dbu;
            }
            "output_options.video_enabled" => options.video_enabled = new_options.video_enabled,
            _ => {}
        }
        current.output_options = Some(with_defaults(Some(options)));
    }
}

/// The index of chain `id`, or NOT_FOUND.
pub fn chain_index(shootout: &Shootout, id: Uuid) -> Result<usize, ShootoutError> {
    let id = id.to_string();
    shootout
        .chains
        .iter()
        .position(|chain| chain.id == id)
        .ok_or(ShootoutError::NotFound("chain"))
}

/// Chain `id` of the shootout, or NOT_FOUND.
pub fn chain_mut(shootout: &mut Shootout, id: Uuid) -> Result<&mut SignalChain, ShootoutError> {
    let index = chain_index(shootout, id)?;
    shootout
        .chains
        .get_mut(index)
        .ok_or(ShootoutError::NotFound("chain"))
}

/// The index of block `id` in `chain`, or NOT_FOUND.
pub fn block_index(chain: &SignalChain, id: Uuid) -> Result<usize, ShootoutError> {
    let id = id.to_string();
    chain
        .blocks
        .iter()
        .position(|block| block.id == id)
        .ok_or(ShootoutError::NotFound("block"))
}

fn insert_position(len: usize, position: Option<u32>, field: &str) -> Result<usize, ShootoutError> {
    match position {
        None => Ok(len),
        Some(p) if (p as usize) <= len => Ok(p as usize),
        Some(p) => Err(invalid(
            field,
            format!("position {p} is past the end; use 0 to {len}, or leave it unset to append"),
        )),
    }
}

/// `AddChain`: validates and inserts a chain; returns its id.
pub fn add_chain(
    checker: &mut Checker,
    shootout: &mut Shootout,
    mut chain: SignalChain,
    position: Option<u32>,
) -> Result<String, ShootoutError> {
    if shootout.chains.len() >= MAX_CHAINS {
        return Err(ShootoutError::FailedPrecondition(format!(
            "this shootout already has {MAX_CHAINS} chains, the most it can compare; remove one first"
        )));
    }
    let at = insert_position(shootout.chains.len(), position, "position")?;
    checker.chain("chain", &chain);
    if let Some(existing) = shootout
        .chains
        .iter()
        .find(|c| same_name(&c.display_name, &chain.display_name))
    {
        checker.violations.add(
            "chain.display_name",
            format!(
                "a chain called {} exists already; choose another name",
                crate::convert::shown(&existing.display_name)
            ),
        );
    }
    assign_chain_ids(&mut chain);
    let id = chain.id.clone();
    shootout.chains.insert(at, chain);
    Ok(id)
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// `UpdateChain`: copies the masked fields of `new` into chain `index`.
pub fn update_chain(
    checker: &mut Checker,
    shootout: &mut Shootout,
    index: usize,
    new: &SignalChain,
    paths: &[String],
) {
    let accepted = mask_paths(checker, paths, CHAIN_PATHS);
    let others: Vec<String> = shootout
        .chains
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, c)| c.display_name.clone())
        .collect();
    let Some(chain) = shootout.chains.get_mut(index) else {
        return;
    };
    for path in accepted {
        match path {
            "display_name" => {
                checker.chain_name("chain", &new.display_name);
                if others.iter().any(|name| same_name(name, &new.display_name)) {
                    checker.violations.add(
                        "chain.display_name",
                        "another chain of this shootout has that name; choose another",
                    );
                }
                chain.display_name.clone_from(&new.display_name);
            }
            "description" => {
                checker.chain_description("chain", &new.description);
                chain.description.clone_from(&new.description);
            }
            "blocks" => {
                checker.blocks("chain", &new.blocks);
                chain.blocks = with_block_ids(checker, &new.blocks);
            }
            "input_high_pass_hz" => {
                checker.input_high_pass("chain", new.input_high_pass_hz);
                chain.input_high_pass_hz = Some(
                    new.input_high_pass_hz
                        .unwrap_or(super::validate::DEFAULT_INPUT_HIGH_PASS_HZ),
                );
            }
            "input_level_mode" => {
                checker.input_level_mode("chain", new.input_level_mode);
                chain.input_level_mode = new.input_level_mode;
            }
            _ => {}
        }
    }
}

/// Keeps well-formed, unique block ids and assigns new ones to blocks without.
fn with_block_ids(checker: &mut Checker, blocks: &[Block]) -> Vec<Block> {
    let mut seen = HashSet::new();
    blocks
        .iter()
        .enumerate()
        .map(|(index, block)| {
            let mut block = block.clone();
            if block.id.is_empty() {
                block.id = new_id();
            } else {
                match Uuid::parse_str(&block.id) {
                    Ok(id) if seen.insert(id) => block.id = id.to_string(),
                    Ok(_) => checker.violations.add(
                        format!("chain.blocks[{index}].id"),
                        "two blocks share this id; leave the id empty for a new block",
                    ),
                    Err(_) => checker.violations.add(
                        format!("chain.blocks[{index}].id"),
                        "is not a block id; leave it empty for a new block",
                    ),
                }
            }
            block
        })
        .collect()
}

/// `RemoveChain`: a shootout keeps at least one chain.
pub fn remove_chain(shootout: &mut Shootout, index: usize) -> Result<(), ShootoutError> {
    if shootout.chains.len() <= 1 {
        return Err(ShootoutError::FailedPrecondition(
            "a shootout keeps at least one chain; add another before removing this one".into(),
        ));
    }
    shootout.chains.remove(index);
    Ok(())
}

/// The permutation of `current` that `order` names, or a violation on `field`.
fn permutation<T: Clone>(
    current: &[T],
    id_of: impl Fn(&T) -> &str,
    order: &[String],
    field: &str,
    what: &str,
) -> Result<Vec<T>, ShootoutError> {
    let mut reordered = Vec::with_capacity(current.len());
    let mut used = HashSet::new();
    for (index, raw) in order.iter().enumerate() {
        let found = Uuid::parse_str(raw.trim())
            .ok()
            .map(|id| id.to_string())
            .and_then(|id| current.iter().find(|item| id_of(item) == id));
        match found {
            Some(item) if used.insert(id_of(item).to_owned()) => reordered.push(item.clone()),
            Some(_) => {
                return Err(invalid(
                    format!("{field}[{index}]"),
                    format!("this {what} id is listed twice; list each {what} once"),
                ));
            }
            None => {
                return Err(invalid(
                    format!("{field}[{index}]"),
                    format!(
                        "{} is not one of this shootout's {what}s",
                        crate::convert::shown(raw)
                    ),
                ));
            }
        }
    }
    if reordered.len() != current.len() {
        return Err(invalid(
            field,
            format!(
                "list every {what} exactly once: {} given, {} expected",
                order.len(),
                current.len()
            ),
        ));
    }
    Ok(reordered)
}

/// `ReorderChains`.
pub fn reorder_chains(shootout: &mut Shootout, order: &[String]) -> Result<(), ShootoutError> {
    shootout.chains = permutation(
        &shootout.chains,
        |c| c.id.as_str(),
        order,
        "chain_ids",
        "chain",
    )?;
    Ok(())
}

/// `AddBlock`: validates and inserts a block; returns its id.
pub fn add_block(
    checker: &mut Checker,
    chain: &mut SignalChain,
    mut block: Block,
    position: Option<u32>,
) -> Result<String, ShootoutError> {
    if chain.blocks.len() >= MAX_BLOCKS {
        return Err(ShootoutError::FailedPrecondition(format!(
            "this chain already has {MAX_BLOCKS} blocks, the most it can hold; remove one first"
        )));
    }
    let at = insert_position(chain.blocks.len(), position, "position")?;
    checker.block("block", &block);
    block.id = new_id();
    let id = block.id.clone();
    chain.blocks.insert(at, block);
    Ok(id)
}

/// `UpdateBlock`: replaces block `index` whole, keeping its id.
pub fn update_block(checker: &mut Checker, chain: &mut SignalChain, index: usize, new: &Block) {
    checker.block("block", new);
    if let Some(block) = chain.blocks.get_mut(index) {
        block.kind.clone_from(&new.kind);
    }
}

/// `ReorderBlocks`.
pub fn reorder_blocks(chain: &mut SignalChain, order: &[String]) -> Result<(), ShootoutError> {
    chain.blocks = permutation(
        &chain.blocks,
        |b| b.id.as_str(),
        order,
        "block_ids",
        "block",
    )?;
    Ok(())
}
