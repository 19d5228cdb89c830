//! The register-tiled multiply-add micro-kernel every WaveNet convolution runs on.
//!
//! Contract: a [`Packed`] matrix maps `steps` input rows to `rows` output rows. Its
//! weights are laid out once, at load time, in the order the kernel reads them: groups
//! of [`ROWS`] output rows, then step, then row, so one step of a tile is [`ROWS`]
//! consecutive broadcasts. [`Packed::apply`] computes, for every frame `t` of a padded
//! block, `out[o][t] (+)= bias[o] + Σ_s w[o][s] · src[offsets[s] + t]`, holding a tile
//! of [`ROWS`] outputs × [`FRAMES`] frames in registers while it streams the inputs.
//! A dilated convolution is one call whose steps are (input row, tap) pairs offset into
//! a [`super::history::History`]; a 1×1 convolution's steps are plain rows; a residual
//! 1×1 starts its tile from the residual ([`Init::Add`]) instead of copying it first. The
//! summation order per output frame is fixed by the step order alone, so tiling and
//! block boundaries never change a result.

use super::simd::{LANES, Lanes};

/// Output rows held in registers by one tile.
pub const ROWS: usize = 4;
/// Frames held in registers by one tile (two vectors).
pub const FRAMES: usize = 2 * LANES;

/// What a tile starts from besides the bias.
#[derive(Debug, Clone, Copy)]
pub enum Init<'a> {
    /// Nothing: the output is overwritten.
    Bias,
    /// What the output holds: the result is added to it.
    Accumulate,
    /// Another signal (`rows` rows of it, `stride` apart): `out = bias + add + W·src`.
    Add(&'a [f32], usize),
}

/// A weight matrix packed for [`Packed::apply`].
#[derive(Debug, Clone)]
pub struct Packed {
    rows: usize,
    steps: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl Packed {
    /// Packs `rows × steps` weights given by `weight(row, step)` and a bias per row.
    pub fn new(
        rows: usize,
        steps: usize,
        weight: impl Fn(usize, usize) -> f32,
        bias: impl Fn(usize) -> f32,
    ) -> Self {
        let groups = rows.div_ceil(ROWS);
        let mut weights = vec![0.0; groups * steps * ROWS];
        let mut biases = vec![0.0; groups * ROWS];
        for (row, b) in biases.iter_mut().enumerate().take(rows) {
            let (group, lane) = (row / ROWS, row % ROWS);
            for step in 0..steps {
                weights[(group * steps + step) * ROWS + lane] = weight(row, step);
            }
            *b = bias(row);
        }
        Self {
            rows,
            steps,
            weights,
            bias: biases,
        }
    }

    /// Runs the matrix over `padded` frames (a multiple of [`FRAMES`]). Step `s` reads
    /// `src[offsets[s]..]`; output row `o` is `out[o * out_stride..]`; each tile starts
    /// from the bias plus what `init` names.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn apply<L: Lanes>(
        &self,
        l: L,
        src: &[f32],
        offsets: &[usize],
        out: &mut [f32],
        out_stride: usize,
        padded: usize,
        init: Init<'_>,
    ) {
        debug_assert_eq!(offsets.len(), self.steps);
        debug_assert_eq!(padded % FRAMES, 0);
        let group_len = self.steps * ROWS;
        if group_len == 0 {
            return;
        }
        for t in (0..padded).step_by(FRAMES) {
            for (group, weights) in self.weights.chunks_exact(group_len).enumerate() {
                let first = group * ROWS;
                let live = (self.rows - first).min(ROWS);
                let mut acc = [[l.splat(0.0); 2]; ROWS];
                for (r, lane) in acc.iter_mut().enumerate() {
                    let b = l.splat(self.bias[first + r]);
                    *lane = [b, b];
                    if r < live {
                        let start = match init {
                            Init::Bias => None,
                            Init::Accumulate => Some(&out[(first + r) * out_stride + t..]),
                            Init::Add(add, stride) => Some(&add[(first + r) * stride + t..]),
                        };
                        if let Some(row) = start {
                            lane[0] = l.add(lane[0], l.load(&row[..LANES]));
                            lane[1] = l.add(lane[1], l.load(&row[LANES..FRAMES]));
                        }
                    }
                }
                for (w, &offset) in weights.chunks_exact(ROWS).zip(offsets) {
                    let x = &src[offset + t..][..FRAMES];
                    let x0 = l.load(&x[..LANES]);
                    let x1 = l.load(&x[LANES..]);
                    for (lane, &wr) in acc.iter_mut().zip(w) {
                        let wv = l.splat(wr);
                        lane[0] = l.mul_add(wv, x0, lane[0]);
                        lane[1] = l.mul_add(wv, x1, lane[1]);
                    }
                }
                for (r, lane) in acc.iter().enumerate().take(live) {
                    let row = &mut out[(first + r) * out_stride + t..][..FRAMES];
                    l.store(lane[0], &mut row[..LANES]);
                    l.store(lane[1], &mut row[LANES..]);
                }
            }
        }
    }
}
