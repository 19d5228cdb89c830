//! Retry delays: exponential backoff with jitter.
//!
//! Contract: the delay before retry `n` (after the n-th failed attempt, 1-based) is drawn
//! uniformly from `[d/2, d]` where `d = min(base * 2^(n-1), max)` ("equal jitter"), so
//! retries of many jobs failing together spread out while each still waits at least half
//! the nominal delay.

use std::time::Duration;

use rand::Rng;

/// The nominal (un-jittered) delay after `failed_attempt` (1-based).
pub fn nominal_delay(failed_attempt: u32, base: Duration, max: Duration) -> Duration {
    let exponent = failed_attempt.saturating_sub(1).min(30);
    base.saturating_mul(1u32 << exponent).min(max)
}

/// The jittered delay after `failed_attempt`, using `rng`.
pub fn jittered_delay(
    failed_attempt: u32,
    base: Duration,
    max: Duration,
    rng: &mut impl Rng,
) -> Duration {
    let nominal = nominal_delay(failed_attempt, base, max);
    let half = nominal / 2;
    let spread = u64::try_from((nominal - half).as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(rng.random_range(0..=spread))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(60);
        let nominal: Vec<u64> = (1..=7)
            .map(|n| nominal_delay(n, base, max).as_secs())
            .collect();
        assert_eq!(nominal, [2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(nominal_delay(1_000, base, max), max);
    }

    #[test]
    fn jitter_stays_within_half_to_full_and_varies() {
        let base = Duration::from_millis(1000);
        let max = Duration::from_secs(60);
        let mut rng = rand::rng();
        let samples: Vec<Duration> = (0..200)
            .map(|_| jittered_delay(3, base, max, &mut rng))
            .collect();
        for sample in &samples {
            assert!(
                *sample >= Duration::from_millis(2000) && *sample <= Duration::from_millis(4000)
            );
        }
        let distinct: std::collections::HashSet<_> = samples.iter().collect();
        assert!(distinct.len() > 10, "jitter should spread the delays");
    }
}
