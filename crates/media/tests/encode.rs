//! WAV and FLAC encoders: decode back and compare within 24-bit quantisation.

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the point

mod common;

use common::{Rng, tone};
use gts_media::MediaError;
use gts_media::encode::{encode_flac24, from_i24, to_i24, write_flac24, write_wav};

const SR: u32 = 48_000;
const STEP: f32 = 1.0 / 8_388_608.0;

/// A test signal with every awkward value: noise, a tone, full scale,
/// overshoot, infinities and NaN.
fn awkward_signal() -> Vec<f32> {
    let mut rng = Rng::new(42);
    let mut signal = tone(997.0, SR, 20_000, 0.7);
    signal.extend((0..20_000).map(|_| rng.range(-1.0, 1.0)));
    signal.extend([
        1.0,
        -1.0,
        1.5,
        -1.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        0.0,
    ]);
    signal
}

fn expected(sample: f32) -> f32 {
    if sample.is_nan() {
        0.0
    } else {
        sample.clamp(-1.0, 1.0 - STEP)
    }
}

#[test]
fn quantisation_is_safe_at_the_edges() {
    assert_eq!(to_i24(f32::NAN), 0);
    assert_eq!(to_i24(1.0), 8_388_607);
    assert_eq!(to_i24(f32::INFINITY), 8_388_607);
    assert_eq!(to_i24(-1.0), -8_388_608);
    assert_eq!(to_i24(f32::NEG_INFINITY), -8_388_608);
    assert_eq!(to_i24(0.5), 4_194_304);
    assert_eq!(from_i24(to_i24(-0.25)), -0.25);
}

#[test]
fn wav_round_trips_within_one_24_bit_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.wav");
    let signal = awkward_signal();
    write_wav(&path, &signal, SR).unwrap();
    let mut reader = hound::WavReader::open(&path).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (1, SR, 24)
    );
    let decoded: Vec<i32> = reader.samples::<i32>().map(Result::unwrap).collect();
    assert_eq!(decoded.len(), signal.len());
    for (&original, &value) in signal.iter().zip(&decoded) {
        assert!((from_i24(value) - expected(original)).abs() <= STEP / 2.0 + 1e-9);
    }
}

#[test]
fn flac_decodes_to_the_same_24_bit_samples() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.flac");
    let signal = awkward_signal();
    write_flac24(&path, &signal, SR).unwrap();
    // Never larger than verbatim 24-bit storage plus headers: the tone→noise
    // switch once made the encoder emit ~1 GB here.
    let size = std::fs::metadata(&path).unwrap().len() as usize;
    assert!(size <= signal.len() * 3 + 16_384, "flac of {size} bytes");
    let mut reader = claxon::FlacReader::open(&path).unwrap();
    let info = reader.streaminfo();
    assert_eq!(
        (info.channels, info.sample_rate, info.bits_per_sample),
        (1, SR, 24)
    );
    assert_eq!(info.samples, Some(signal.len() as u64));
    let decoded: Vec<i32> = reader.samples().map(Result::unwrap).collect();
    let quantised: Vec<i32> = signal.iter().map(|&s| to_i24(s)).collect();
    assert_eq!(decoded, quantised);
    for (&original, &value) in signal.iter().zip(&decoded) {
        assert!((from_i24(value) - expected(original)).abs() <= STEP / 2.0 + 1e-9);
    }
}

#[test]
fn flac_actually_compresses_guitar_like_audio() {
    // Plucks after silence once made the encoder's fixed predictor emit
    // frames 20× larger than verbatim; a real compression ratio shows the
    // predictor path works.
    let (di, _) = common::plucks_with_gaps(SR, 5.0, 21);
    let bytes = encode_flac24(&di, SR).unwrap();
    let verbatim = di.len() * 3;
    assert!(
        bytes.len() * 10 < verbatim * 6,
        "{} of {verbatim} bytes",
        bytes.len()
    );
    let mut reader = claxon::FlacReader::new(std::io::Cursor::new(bytes)).unwrap();
    let decoded: Vec<i32> = reader.samples().map(Result::unwrap).collect();
    assert_eq!(decoded, di.iter().map(|&s| to_i24(s)).collect::<Vec<_>>());
}

#[test]
fn flac_output_is_byte_identical_across_runs() {
    let signal = awkward_signal();
    assert_eq!(
        encode_flac24(&signal, SR).unwrap(),
        encode_flac24(&signal, SR).unwrap()
    );
}

#[test]
fn short_and_empty_inputs_encode() {
    let dir = tempfile::tempdir().unwrap();
    for len in [0usize, 1, 17] {
        let signal = vec![0.25f32; len];
        let flac = dir.path().join(format!("{len}.flac"));
        write_flac24(&flac, &signal, SR).unwrap();
        let mut reader = claxon::FlacReader::open(&flac).unwrap();
        let decoded: Vec<i32> = reader.samples().map(Result::unwrap).collect();
        assert_eq!(decoded, vec![to_i24(0.25); len]);
        let wav = dir.path().join(format!("{len}.wav"));
        write_wav(&wav, &signal, SR).unwrap();
        assert_eq!(hound::WavReader::open(&wav).unwrap().len() as usize, len);
    }
}

#[test]
fn bad_rates_and_paths_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.flac");
    assert!(matches!(
        write_flac24(&path, &[0.0], 0),
        Err(MediaError::InvalidInput(_))
    ));
    assert!(matches!(
        write_flac24(&path, &[0.0], 1_000_000),
        Err(MediaError::InvalidInput(_))
    ));
    assert!(matches!(
        write_wav(&path, &[0.0], 0),
        Err(MediaError::InvalidInput(_))
    ));
    let missing = dir.path().join("no/such/dir/x.wav");
    assert!(matches!(
        write_wav(&missing, &[0.0], SR),
        Err(MediaError::Io { .. })
    ));
    let missing = dir.path().join("no/such/dir/x.flac");
    assert!(matches!(
        write_flac24(&missing, &[0.0], SR),
        Err(MediaError::Io { .. })
    ));
}
