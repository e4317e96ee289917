//! A time-boxed mutation fuzzer on stable Rust, for CI: cargo-fuzz needs a nightly toolchain
//! (sanitizer flags), which this project's machines cannot fetch, so the fuzz targets also run
//! here, without coverage guidance: seeds (real inputs) are mutated by byte flips, inserts,
//! deletions, splices with other seeds and dictionary tokens, and every input goes through
//! the target, which must return, never panic. A panic fails the test with the input (hex)
//! and the seed that replays the run (`ASSENT_FUZZ_SEED`). `ASSENT_FUZZ_SECS` sets the time
//! per target (CI: 60).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Seconds per target: `ASSENT_FUZZ_SECS`, else 5 (a quick run on a developer's machine).
pub fn budget() -> Duration {
    let secs = std::env::var("ASSENT_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(5);
    Duration::from_secs(secs)
}

/// What a run did.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub inputs: u64,
}

/// Feeds mutations of `seeds` (and `dict` tokens) to `target` for [`budget`]; panics with
/// the failing input when `target` panics.
pub fn run(name: &str, seeds: &[Vec<u8>], dict: &[&[u8]], target: impl Fn(&[u8])) -> Stats {
    let seed = std::env::var("ASSENT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| {
            let mut b = [0u8; 8];
            // Falls back to a fixed seed: a run without randomness still fuzzes.
            let _ = getrandom::fill(&mut b);
            u64::from_le_bytes(b) | 1
        });
    let mut rng = Rng(seed);
    let deadline = Instant::now() + budget();
    let mut inputs = 0u64;
    let empty = [Vec::new()];
    let seeds = if seeds.is_empty() { &empty[..] } else { seeds };
    // Silence the default hook's message per caught panic; the failure message says it all.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failure = None;
    while Instant::now() < deadline {
        for _ in 0..64 {
            let mut input = seeds[rng.below(seeds.len())].clone();
            for _ in 0..=rng.below(8) {
                mutate(&mut rng, &mut input, seeds, dict);
            }
            inputs += 1;
            if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
                failure = Some(input);
                break;
            }
        }
        if failure.is_some() {
            break;
        }
    }
    std::panic::set_hook(hook);
    if let Some(input) = failure {
        panic!(
            "fuzz target `{name}` panicked on input {} ({:?}); replay with ASSENT_FUZZ_SEED={seed}",
            hex(&input),
            String::from_utf8_lossy(&input)
        );
    }
    eprintln!(
        "fuzz {name}: {inputs} inputs in {:?}, seed {seed}",
        budget()
    );
    Stats { inputs }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>], dict: &[&[u8]]) {
    const INTERESTING: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\n",
        b"\0",
        b"\xff",
        b"\xc3\x28",
        b"-1",
        b"0",
        b"1e999",
        b"9007199254740993",
        b"null",
        b"true",
        b"\\u0000",
        b"\\ud800",
        b"=",
        b"'''",
        b"[[",
        b"]]",
        b"#",
    ];
    let at = rng.below(input.len() + 1);
    match rng.below(8) {
        0 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] ^= 1 << rng.below(8);
        }
        1 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] = rng.next() as u8;
        }
        2 if !input.is_empty() => {
            let n = 1 + rng.below(16.min(input.len()));
            let start = rng.below(input.len() - n + 1);
            input.drain(start..start + n);
        }
        3 => {
            let tok = INTERESTING[rng.below(INTERESTING.len())];
            input.splice(at..at, tok.iter().copied());
        }
        4 if !dict.is_empty() => {
            let tok = dict[rng.below(dict.len())];
            input.splice(at..at, tok.iter().copied());
        }
        5 => {
            // Splice a part of another seed in.
            let other = &seeds[rng.below(seeds.len())];
            if !other.is_empty() {
                let a = rng.below(other.len());
                let b = a + rng.below(other.len() - a + 1);
                input.splice(at..at, other[a..b].iter().copied());
            }
        }
        6 if !input.is_empty() => {
            // Repeat a chunk (deep nesting, long strings).
            let a = rng.below(input.len());
            let b = (a + 1 + rng.below(32)).min(input.len());
            let chunk = input[a..b].to_vec();
            for _ in 0..=rng.below(64) {
                input.splice(
                    at.min(input.len())..at.min(input.len()),
                    chunk.iter().copied(),
                );
            }
        }
        _ => {
            if input.len() > 1 {
                input.truncate(rng.below(input.len()));
            }
        }
    }
    input.truncate(64 * 1024);
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_a_planted_panic_and_names_the_input() {
        let seeds = vec![b"hello".to_vec()];
        let r = std::panic::catch_unwind(|| {
            super::run("planted", &seeds, &[b"BOOM"], |b| {
                assert!(!b.windows(4).any(|w| w == b"BOOM"), "planted");
            })
        });
        let msg = r.err().and_then(|e| e.downcast::<String>().ok()).unwrap();
        assert!(
            msg.contains("BOOM") && msg.contains("ASSENT_FUZZ_SEED"),
            "{msg}"
        );
    }
}
