//! Our LSTM forward pass: stacked layers and a linear head, one sample at a time
//! (the recurrence allows nothing else), vectorised across the gates.
//!
//! Contract: [`Lstm::build`] lays out each layer's `4H × (in + H)` matrix column by
//! column with every gate block (i, f, g, o) padded to whole vectors, so one step is
//! `gates += column · input` over a few vectors, then the sigmoid and tanh of whole
//! vectors. Padding lanes carry zero weights and stay at zero state. No allocation in
//! [`Lstm::process`].

use nam_rs::{ModelConfig, NamModel};

use super::simd::{LANES, Lanes};

#[derive(Debug, Clone)]
struct Cell {
    input: usize,
    /// Lanes per gate block (H rounded up to whole vectors).
    width: usize,
    /// Column-major: `(input + H)` columns of `4·width`.
    columns: Vec<f32>,
    bias: Vec<f32>,
    h0: Vec<f32>,
    c0: Vec<f32>,
    h: Vec<f32>,
    c: Vec<f32>,
    gates: Vec<f32>,
}

/// An LSTM ready to run.
#[derive(Debug, Clone)]
pub struct Lstm {
    cells: Vec<Cell>,
    head: Vec<f32>,
    head_bias: f32,
    /// The input column of the next layer.
    carry: Vec<f32>,
}

impl Lstm {
    /// Lays out `model` (already checked by nam-rs), or `None` if it is not an LSTM.
    pub fn build(model: &NamModel) -> Option<Self> {
        let ModelConfig::Lstm(config) = &model.config else {
            return None;
        };
        let hidden = config.hidden_size;
        let width = hidden.max(1).next_multiple_of(LANES);
        let mut weights = model.weights.as_slice();
        let mut take = |n: usize| -> Option<&[f32]> {
            if n > weights.len() {
                return None;
            }
            let (taken, rest) = weights.split_at(n);
            weights = rest;
            Some(taken)
        };
        let mut cells = Vec::with_capacity(config.num_layers);
        for layer in 0..config.num_layers {
            let input = if layer == 0 {
                config.input_size
            } else {
                hidden
            };
            let row_len = input + hidden;
            let w = take(4 * hidden * row_len)?;
            let b = take(4 * hidden)?;
            let h0 = take(hidden)?;
            let c0 = take(hidden)?;
            let mut columns = vec![0.0; row_len * 4 * width];
            let mut bias = vec![0.0; 4 * width];
            for gate in 0..4 {
                for j in 0..hidden {
                    let row = gate * hidden + j;
                    let lane = gate * width + j;
                    bias[lane] = b[row];
                    for col in 0..row_len {
                        columns[col * 4 * width + lane] = w[row * row_len + col];
                    }
                }
            }
            let pad = |v: &[f32]| {
                let mut out = vec![0.0; width];
                out[..hidden].copy_from_slice(v);
                out
            };
            cells.push(Cell {
                input,
                width,
                columns,
                bias,
                h: pad(h0),
                c: pad(c0),
                h0: pad(h0),
                c0: pad(c0),
                gates: vec![0.0; 4 * width],
            });
        }
        let head_w = take(hidden)?;
        let head_bias = *take(1)?.first()?;
        let mut head = vec![0.0; width];
        head[..hidden].copy_from_slice(head_w);
        Some(Self {
            cells,
            head,
            head_bias,
            carry: vec![0.0; width.max(LANES)],
        })
    }

    /// Back to the trained initial state.
    pub fn reset(&mut self) {
        for cell in &mut self.cells {
            cell.h.copy_from_slice(&cell.h0);
            cell.c.copy_from_slice(&cell.c0);
        }
    }

    /// Runs `io` through the network in place, continuing from the current state.
    #[inline(always)]
    pub fn process<L: Lanes>(&mut self, l: L, io: &mut [f32]) {
        for sample in io.iter_mut() {
            *sample = self.step(l, *sample);
        }
    }

    #[inline(always)]
    fn step<L: Lanes>(&mut self, l: L, x: f32) -> f32 {
        self.carry[0] = x;
        for cell in &mut self.cells {
            cell.step(l, &mut self.carry);
        }
        let Some(last) = self.cells.last() else {
            return self.head_bias;
        };
        let mut acc = l.splat(0.0);
        for (h, w) in last
            .h
            .chunks_exact(LANES)
            .zip(self.head.chunks_exact(LANES))
        {
            acc = l.mul_add(l.load(h), l.load(w), acc);
        }
        let mut lanes = [0.0; LANES];
        l.store(acc, &mut lanes);
        self.head_bias + lanes.iter().sum::<f32>()
    }
}

impl Cell {
    /// One time step: reads `input` values from `carry`, leaves `h` there.
    #[inline(always)]
    fn step<L: Lanes>(&mut self, l: L, carry: &mut [f32]) {
        let span = 4 * self.width;
        self.gates.copy_from_slice(&self.bias);
        let inputs = carry[..self.input].iter().chain(self.h.iter());
        for (column, &value) in self.columns.chunks_exact(span).zip(inputs) {
            let v = l.splat(value);
            for (g, w) in self
                .gates
                .chunks_exact_mut(LANES)
                .zip(column.chunks_exact(LANES))
            {
                l.store(l.mul_add(l.load(w), v, l.load(g)), g);
            }
        }
        let width = self.width;
        for j in (0..width).step_by(LANES) {
            let i = l.sigmoid(l.load(&self.gates[j..]));
            let f = l.sigmoid(l.load(&self.gates[width + j..]));
            let g = l.tanh(l.load(&self.gates[2 * width + j..]));
            let o = l.sigmoid(l.load(&self.gates[3 * width + j..]));
            let c = l.mul_add(f, l.load(&self.c[j..]), l.mul(i, g));
            l.store(c, &mut self.c[j..]);
            l.store(l.mul(o, l.tanh(c)), &mut self.h[j..]);
        }
        carry[..width].copy_from_slice(&self.h);
    }
}
