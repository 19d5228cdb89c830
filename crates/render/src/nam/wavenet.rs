//! Our WaveNet forward pass: A1 (gated or not) and the A2 layer features real
//! captures use, in blocks of frames.
//!
//! Contract: [`WaveNet::build`] takes a `.nam` WaveNet config that has already passed
//! the engine's bounds checks and nam-rs's structural checks, and either lays out its
//! weights once (in the order the inner loops read them) or answers `None` for the
//! features this kernel does not implement (FiLM, grouped convolutions, a conditioning
//! DSP, a post-stack head, multi-channel conditioning) so the caller keeps the
//! reference implementation for them. [`WaveNet::process`] runs any number of samples
//! with no allocation: each layer is one packed matrix over the history's taps plus the
//! conditioning (dilated conv + input mix + bias), the activation or gate, the head
//! accumulation and the residual 1×1, per block of up to [`BLOCK`] frames. The output
//! for a frame depends only on the samples before it and never on how the input was cut
//! into calls, which is what segmented rendering relies on.

use nam_rs::{ActivationSpec, GatingMode, LayerArrayConfig, ModelConfig, NamModel};

use super::history::History;
use super::matmul::{FRAMES, Init, Packed};
use super::simd::{LANES, Lanes};

/// Frames per internal block: the scratch of one layer stays in L1.
pub const BLOCK: usize = 128;

/// A pointwise activation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Activation {
    Tanh,
    Relu,
    Sigmoid,
    LeakyRelu(f32),
}

impl Activation {
    fn from_spec(spec: &ActivationSpec) -> Option<Self> {
        match spec {
            ActivationSpec::Named {
                name,
                negative_slope,
            } => match name.as_str() {
                "Tanh" => Some(Self::Tanh),
                "ReLU" => Some(Self::Relu),
                "Sigmoid" => Some(Self::Sigmoid),
                "LeakyReLU" => Some(Self::LeakyRelu(negative_slope.unwrap_or(0.01))),
                _ => None,
            },
            ActivationSpec::Unsupported(_) => None,
        }
    }

    #[inline(always)]
    fn apply<L: Lanes>(self, l: L, x: L::V) -> L::V {
        match self {
            Self::Tanh => l.tanh(x),
            Self::Relu => l.max(x, l.splat(0.0)),
            Self::Sigmoid => l.sigmoid(x),
            Self::LeakyRelu(slope) => l.leaky(x, l.splat(slope)),
        }
    }
}

#[derive(Debug, Clone)]
struct Layer {
    /// Dilated conv over (channel, tap) steps, then the conditioning: `mid` rows.
    conv_mix: Packed,
    /// Residual 1×1 (`channels` rows over `bottleneck` steps); `None` = identity.
    layer1x1: Option<Packed>,
    /// Head 1×1 (`head_in` rows over `bottleneck` steps); `None` = the activation.
    head1x1: Option<Packed>,
    mode: GatingMode,
    primary: Activation,
    secondary: Activation,
    kernel: usize,
    dilation: usize,
    /// This layer's input (`channels` rows) and the conditioning (one more row).
    hist: History,
    /// Step offsets of `conv_mix` for the current block.
    offsets: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Array {
    channels: usize,
    bottleneck: usize,
    head_in: usize,
    head_size: usize,
    head_kernel: usize,
    rechannel: Packed,
    layers: Vec<Layer>,
    head: Packed,
    /// The head accumulator, with the history the head convolution reads.
    head_hist: History,
    head_offsets: Vec<usize>,
    /// Pre-activation (`mid` rows) and activation (`bottleneck` rows), stride BLOCK.
    z: Vec<f32>,
    act: Vec<f32>,
    /// Row offsets of `act` (the 1×1s' steps).
    act_offsets: Vec<usize>,
    /// Row offsets of this array's input (stride BLOCK).
    input_offsets: Vec<usize>,
}

/// A WaveNet ready to run.
#[derive(Debug, Clone)]
pub struct WaveNet {
    arrays: Vec<Array>,
    head_scale: f32,
    /// The raw input of the block (also the conditioning), padded with zeros.
    input: Vec<f32>,
    sig: [Vec<f32>; 2],
    head: [Vec<f32>; 2],
}

/// Reads the flat weight list in `.nam` export order.
struct Reader<'a> {
    weights: &'a [f32],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [f32]> {
        if n > self.weights.len() {
            return None;
        }
        let (taken, rest) = self.weights.split_at(n);
        self.weights = rest;
        Some(taken)
    }
}

impl WaveNet {
    /// Lays out `model` for this kernel, or `None` when it uses a feature the kernel
    /// leaves to the reference implementation.
    pub fn build(model: &NamModel) -> Option<Self> {
        let ModelConfig::WaveNet(config) = &model.config else {
            return None;
        };
        if config.in_channels != 1
            || config.condition_dsp.is_some()
            || config.post_stack_head.is_some()
            || config.layers.is_empty()
        {
            return None;
        }
        let mut reader = Reader {
            weights: &model.weights,
        };
        let mut arrays = Vec::with_capacity(config.layers.len());
        for array in &config.layers {
            arrays.push(build_array(&mut reader, array)?);
        }
        let head_scale = *reader.take(1)?.first()?;
        if !reader.weights.is_empty() {
            return None;
        }
        for pair in arrays.windows(2) {
            if pair[0].head_size != pair[1].head_in {
                return None;
            }
        }
        if arrays.last()?.head_size != 1 {
            return None;
        }
        let width = arrays
            .iter()
            .map(|a| a.channels.max(a.head_size).max(a.head_in))
            .max()
            .unwrap_or(1);
        Some(Self {
            arrays,
            head_scale,
            input: vec![0.0; BLOCK],
            sig: [vec![0.0; width * BLOCK], vec![0.0; width * BLOCK]],
            head: [vec![0.0; width * BLOCK], vec![0.0; width * BLOCK]],
        })
    }

    /// Silence in every history.
    pub fn reset(&mut self) {
        for array in &mut self.arrays {
            array.head_hist.reset();
            for layer in &mut array.layers {
                layer.hist.reset();
            }
        }
    }

    /// Runs `io` through the network in place, continuing from the current state.
    #[inline(always)]
    pub fn process<L: Lanes>(&mut self, l: L, io: &mut [f32]) {
        for chunk in io.chunks_mut(BLOCK) {
            self.process_block(l, chunk);
        }
    }

    #[inline(always)]
    fn process_block<L: Lanes>(&mut self, l: L, chunk: &mut [f32]) {
        let n = chunk.len();
        let padded = n.div_ceil(FRAMES) * FRAMES;
        self.input[..n].copy_from_slice(chunk);
        self.input[n..padded].fill(0.0);
        let [sig_a, sig_b] = &mut self.sig;
        let [head_a, head_b] = &mut self.head;
        for (index, array) in self.arrays.iter_mut().enumerate() {
            let input: &[f32] = if index == 0 { &self.input } else { sig_a };
            let carry = (index > 0).then_some(&head_a[..]);
            array.process(l, input, &self.input, carry, head_b, sig_b, n, padded);
            std::mem::swap(sig_a, sig_b);
            std::mem::swap(head_a, head_b);
        }
        for (out, &h) in chunk.iter_mut().zip(head_a.iter()) {
            *out = self.head_scale * h;
        }
    }
}

impl Array {
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn process<L: Lanes>(
        &mut self,
        l: L,
        input: &[f32],
        condition: &[f32],
        carry: Option<&[f32]>,
        head_out: &mut [f32],
        array_out: &mut [f32],
        n: usize,
        padded: usize,
    ) {
        let channels = self.channels;
        // Rechannel the input into the first layer's history.
        {
            let first = &mut self.layers[0].hist;
            first.prepare(padded);
            let stride = first.stride();
            self.rechannel.apply(
                l,
                input,
                &self.input_offsets,
                first.rows_mut(0),
                stride,
                padded,
                Init::Bias,
            );
        }
        // Seed the head accumulator with the previous array's head (or silence).
        self.head_hist.prepare(padded);
        for row in 0..self.head_in {
            let block = self.head_hist.block_mut(row, padded);
            match carry {
                Some(carry) => block.copy_from_slice(&carry[row * BLOCK..][..padded]),
                None => block.fill(0.0),
            }
        }
        let count = self.layers.len();
        for index in 0..count {
            let (done, rest) = self.layers.split_at_mut(index + 1);
            let layer = &mut done[index];
            layer
                .hist
                .block_mut(channels, padded)
                .copy_from_slice(&condition[..padded]);
            layer.compute_offsets(channels);
            let mid = layer.conv_mix_rows(self.bottleneck);
            layer.conv_mix.apply(
                l,
                layer.hist.data(),
                &layer.offsets,
                &mut self.z,
                BLOCK,
                padded,
                Init::Bias,
            );
            // The activation; without a head 1×1 the head adds it as it is written.
            let head_stride = self.head_hist.stride();
            let direct_head = layer.head1x1.is_none().then(|| self.head_hist.rows_mut(0));
            activate(
                l,
                layer,
                &self.z[..mid * BLOCK],
                &mut self.act,
                direct_head.map(|rows| (rows, head_stride)),
                self.bottleneck,
                padded,
            );
            if let Some(head1x1) = &layer.head1x1 {
                head1x1.apply(
                    l,
                    &self.act,
                    &self.act_offsets,
                    self.head_hist.rows_mut(0),
                    head_stride,
                    padded,
                    Init::Accumulate,
                );
            }
            // Residual into the next layer's history, or the array's output.
            let (dest, dest_stride): (&mut [f32], usize) = match rest.first_mut() {
                Some(next) => {
                    next.hist.prepare(padded);
                    let stride = next.hist.stride();
                    (next.hist.rows_mut(0), stride)
                }
                None => (&mut array_out[..], BLOCK),
            };
            let src_stride = layer.hist.stride();
            let residual = &layer.hist.data()[layer.hist.pos()..];
            match &layer.layer1x1 {
                Some(layer1x1) => layer1x1.apply(
                    l,
                    &self.act,
                    &self.act_offsets,
                    dest,
                    dest_stride,
                    padded,
                    Init::Add(residual, src_stride),
                ),
                // No layer 1×1: the layer passes its input on unchanged (the
                // activation reaches only the head).
                None => {
                    for row in 0..channels {
                        dest[row * dest_stride..][..padded]
                            .copy_from_slice(&residual[row * src_stride..][..padded]);
                    }
                }
            }
            layer.hist.advance(n);
        }
        // Head convolution over the accumulator's history.
        let stride = self.head_hist.stride();
        let pos = self.head_hist.pos();
        for (step, offset) in self.head_offsets.iter_mut().enumerate() {
            let (row, tap) = (step / self.head_kernel, step % self.head_kernel);
            *offset = row * stride + pos - (self.head_kernel - 1 - tap);
        }
        self.head.apply(
            l,
            self.head_hist.data(),
            &self.head_offsets,
            head_out,
            BLOCK,
            padded,
            Init::Bias,
        );
        self.head_hist.advance(n);
    }
}

impl Layer {
    fn conv_mix_rows(&self, bottleneck: usize) -> usize {
        match self.mode {
            GatingMode::None => bottleneck,
            GatingMode::Gated | GatingMode::Blended => 2 * bottleneck,
        }
    }

    fn compute_offsets(&mut self, channels: usize) {
        let stride = self.hist.stride();
        let pos = self.hist.pos();
        let taps = channels * self.kernel;
        for (step, offset) in self.offsets.iter_mut().enumerate() {
            *offset = if step < taps {
                let (row, tap) = (step / self.kernel, step % self.kernel);
                row * stride + pos - (self.kernel - 1 - tap) * self.dilation
            } else {
                channels * stride + pos
            };
        }
    }
}

#[inline(always)]
fn add_into<L: Lanes>(l: L, acc: &mut [f32], add: &[f32]) {
    for (a, b) in acc.chunks_exact_mut(LANES).zip(add.chunks_exact(LANES)) {
        let sum = l.add(l.load(a), l.load(b));
        l.store(sum, a);
    }
}

/// `act = gate(z)` for `bottleneck` rows of `padded` frames; with `head` (rows
/// `stride` apart), each activation row is also added to the head's row.
#[inline(always)]
fn activate<L: Lanes>(
    l: L,
    layer: &Layer,
    z: &[f32],
    act: &mut [f32],
    mut head: Option<(&mut [f32], usize)>,
    bottleneck: usize,
    padded: usize,
) {
    for row in 0..bottleneck {
        let out = &mut act[row * BLOCK..][..padded];
        let a = &z[row * BLOCK..][..padded];
        match (layer.mode, layer.primary) {
            // The standard A1 layer: the activation's match out of the loop, and the
            // head sum in the same pass.
            (GatingMode::None, Activation::Tanh) => {
                if let Some((rows, stride)) = head.as_mut() {
                    let sum = &mut rows[row * *stride..][..padded];
                    for ((o, x), h) in out
                        .chunks_exact_mut(LANES)
                        .zip(a.chunks_exact(LANES))
                        .zip(sum.chunks_exact_mut(LANES))
                    {
                        let v = l.tanh(l.load(x));
                        l.store(v, o);
                        l.store(l.add(l.load(h), v), h);
                    }
                    continue;
                }
                for (o, x) in out.chunks_exact_mut(LANES).zip(a.chunks_exact(LANES)) {
                    l.store(l.tanh(l.load(x)), o);
                }
            }
            (GatingMode::None, primary) => {
                for (o, x) in out.chunks_exact_mut(LANES).zip(a.chunks_exact(LANES)) {
                    l.store(primary.apply(l, l.load(x)), o);
                }
            }
            (GatingMode::Gated, primary) => {
                let b = &z[(row + bottleneck) * BLOCK..][..padded];
                for ((o, x), g) in out
                    .chunks_exact_mut(LANES)
                    .zip(a.chunks_exact(LANES))
                    .zip(b.chunks_exact(LANES))
                {
                    let v = primary.apply(l, l.load(x));
                    let s = layer.secondary.apply(l, l.load(g));
                    l.store(l.mul(v, s), o);
                }
            }
            (GatingMode::Blended, primary) => {
                let b = &z[(row + bottleneck) * BLOCK..][..padded];
                for ((o, x), g) in out
                    .chunks_exact_mut(LANES)
                    .zip(a.chunks_exact(LANES))
                    .zip(b.chunks_exact(LANES))
                {
                    let zx = l.load(x);
                    let v = primary.apply(l, zx);
                    let alpha = layer.secondary.apply(l, l.load(g));
                    // alpha·v + (1 − alpha)·z
                    let blended = l.mul_add(alpha, l.sub(v, zx), zx);
                    l.store(blended, o);
                }
            }
        }
        if let Some((rows, stride)) = head.as_mut() {
            add_into(l, &mut rows[row * *stride..][..padded], out);
        }
    }
}

fn build_array(reader: &mut Reader<'_>, config: &LayerArrayConfig) -> Option<Array> {
    let dense = config.groups_input == 1
        && config.groups_input_mixin == 1
        && config.layer1x1.groups == 1
        && config.head1x1.groups == 1;
    let films = [
        &config.conv_pre_film,
        &config.conv_post_film,
        &config.input_mixin_pre_film,
        &config.input_mixin_post_film,
        &config.activation_pre_film,
        &config.activation_post_film,
        &config.layer1x1_post_film,
        &config.head1x1_post_film,
    ];
    if !dense || config.condition_size != 1 || films.iter().any(|f| f.active) {
        return None;
    }
    let layer_count = config.dilations.len();
    if layer_count == 0
        || config.kernel_sizes.len() != layer_count
        || config.activations.len() != layer_count
        || config.gating_modes.len() != layer_count
        || config.secondary_activations.len() != layer_count
    {
        return None;
    }
    let channels = config.channels;
    let bottleneck = config.bottleneck;
    let input_size = config.input_size;
    let head1x1_out = config.head1x1.out_channels.unwrap_or(channels);
    let head_in = if config.head1x1.active {
        head1x1_out
    } else {
        bottleneck
    };
    if !config.layer1x1.active && bottleneck != channels {
        return None;
    }
    let rechannel_w = reader.take(channels * input_size)?;
    let rechannel = Packed::new(
        channels,
        input_size,
        |o, j| rechannel_w[o * input_size + j],
        |_| 0.0,
    );
    let mut layers = Vec::with_capacity(layer_count);
    let mut max_mid = bottleneck;
    for index in 0..layer_count {
        let kernel = config.kernel_sizes[index];
        let dilation = config.dilations[index];
        let mode = config.gating_modes[index];
        let mid = match mode {
            GatingMode::None => bottleneck,
            GatingMode::Gated | GatingMode::Blended => 2 * bottleneck,
        };
        max_mid = max_mid.max(mid);
        let conv_w = reader.take(mid * channels * kernel)?;
        let conv_b = reader.take(mid)?;
        let mix_w = reader.take(mid)?;
        let taps = channels * kernel;
        let conv_mix = Packed::new(
            mid,
            taps + 1,
            |o, step| {
                if step < taps {
                    let (row, tap) = (step / kernel, step % kernel);
                    conv_w[(o * channels + row) * kernel + tap]
                } else {
                    mix_w[o]
                }
            },
            |o| conv_b[o],
        );
        let layer1x1 = if config.layer1x1.active {
            let w = reader.take(channels * bottleneck)?;
            let b = reader.take(channels)?;
            Some(Packed::new(
                channels,
                bottleneck,
                |o, c| w[o * bottleneck + c],
                |o| b[o],
            ))
        } else {
            None
        };
        let head1x1 = if config.head1x1.active {
            let w = reader.take(head1x1_out * bottleneck)?;
            let b = reader.take(head1x1_out)?;
            Some(Packed::new(
                head1x1_out,
                bottleneck,
                |o, c| w[o * bottleneck + c],
                |o| b[o],
            ))
        } else {
            None
        };
        layers.push(Layer {
            conv_mix,
            layer1x1,
            head1x1,
            mode,
            primary: Activation::from_spec(&config.activations[index])?,
            secondary: Activation::from_spec(&config.secondary_activations[index])?,
            kernel,
            dilation,
            hist: History::new(channels + 1, (kernel - 1) * dilation, BLOCK),
            offsets: vec![0; taps + 1],
        });
    }
    let head_kernel = config.head_kernel_size.max(1);
    let head_size = config.head_size;
    let head_w = reader.take(head_size * head_in * head_kernel)?;
    let head_b = if config.head_bias {
        Some(reader.take(head_size)?)
    } else {
        None
    };
    let head = Packed::new(
        head_size,
        head_in * head_kernel,
        |o, step| {
            let (row, tap) = (step / head_kernel, step % head_kernel);
            head_w[(o * head_in + row) * head_kernel + tap]
        },
        |o| head_b.map_or(0.0, |b| b[o]),
    );
    Some(Array {
        channels,
        bottleneck,
        head_in,
        head_size,
        head_kernel,
        rechannel,
        layers,
        head,
        head_hist: History::new(head_in, head_kernel - 1, BLOCK),
        head_offsets: vec![0; head_in * head_kernel],
        z: vec![0.0; max_mid.next_multiple_of(4) * BLOCK],
        act: vec![0.0; bottleneck * BLOCK],
        act_offsets: (0..bottleneck).map(|c| c * BLOCK).collect(),
        input_offsets: (0..input_size).map(|c| c * BLOCK).collect(),
    })
}
