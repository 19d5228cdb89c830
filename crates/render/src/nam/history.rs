//! Planar signal history that keeps every convolution tap a contiguous slice.
//!
//! Contract: a [`History`] holds `rows` signals, each a row of `hist + capacity +
//! slack` samples. The current block starts at [`History::pos`]; a tap `back` samples
//! in the past is the contiguous slice starting at `pos - back`. When a block would not
//! fit, [`History::prepare`] copies the last `hist` samples of each row to its start
//! (one copy every `capacity` samples, not a `%` per frame). Frames past the block's
//! real length (tile padding) may be written; the next block overwrites them before
//! anything reads them.

/// Rows of history, sample-contiguous.
#[derive(Debug, Clone)]
pub struct History {
    data: Vec<f32>,
    stride: usize,
    hist: usize,
    pos: usize,
}

impl History {
    /// `rows` signals remembering `hist` past samples, taking blocks of up to `block`
    /// (padded) frames.
    pub fn new(rows: usize, hist: usize, block: usize) -> Self {
        // A copy of `hist` samples every `capacity` frames: at most one per frame.
        let capacity = hist.max(8 * block);
        let stride = hist + capacity + block;
        Self {
            data: vec![0.0; rows * stride],
            stride,
            hist,
            pos: hist,
        }
    }

    /// Makes room for a block of `padded` frames at [`Self::pos`].
    pub fn prepare(&mut self, padded: usize) {
        if self.pos + padded <= self.stride {
            return;
        }
        let (hist, pos, stride) = (self.hist, self.pos, self.stride);
        for row in self.data.chunks_exact_mut(stride) {
            row.copy_within(pos - hist..pos, 0);
        }
        self.pos = hist;
    }

    /// Moves past a block of `n` real frames.
    pub fn advance(&mut self, n: usize) {
        self.pos += n;
    }

    /// Start of the current block within a row.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Samples between the starts of two rows.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Every row, for the convolution kernels.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The current block of `row`, `len` frames long.
    pub fn block_mut(&mut self, row: usize, len: usize) -> &mut [f32] {
        let start = row * self.stride + self.pos;
        &mut self.data[start..start + len]
    }

    /// The current block of every row from `first_row`, as one mutable slice with
    /// [`Self::stride`] between rows.
    pub fn rows_mut(&mut self, first_row: usize) -> &mut [f32] {
        let start = first_row * self.stride + self.pos;
        &mut self.data[start..]
    }

    /// Silence, as after construction.
    pub fn reset(&mut self) {
        self.data.fill(0.0);
        self.pos = self.hist;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewinding_keeps_the_past_in_place() {
        let mut h = History::new(2, 3, 4);
        for step in 0..100 {
            h.prepare(4);
            for row in 0..2 {
                let block = h.block_mut(row, 4);
                for (i, s) in block.iter_mut().enumerate() {
                    *s = (step * 4 + i + row * 1000) as f32;
                }
            }
            // The three samples before the block are the previous block's last three.
            if step > 0 {
                let start = h.stride() + h.pos() - 3;
                let past = &h.data()[start..start + 3];
                let want: Vec<f32> = (1..=3)
                    .rev()
                    .map(|b| (step * 4 - b + 1000) as f32)
                    .collect();
                assert_eq!(past, want.as_slice(), "step {step}");
            }
            h.advance(4);
        }
    }
}
