//! `assent ledger witness`: an auditor's (or a customer's, or a second Assent's) copy of the
//! ledger's published history, as Certificate Transparency witnesses keep one. Each run
//! fetches the checkpoint notes, checks each chain's consistency proof from the last head it
//! accepted, and appends the new head; a fork or a rollback fails loudly (exit 1) and keeps
//! the served note as evidence. The state directory is also what `ledger verify
//! --witness-state` and `receipt verify --witness-state` check against.
//!
//! State directory (created on first run, never rewritten, only appended to):
//! `key.json` the ledger key pinned on first use (or given with `--key`); `chain-N.log` one
//! line `SIZE ROOT_HEX` per accepted head of chain N, ascending; `chain-N.note` the latest
//! accepted signed note; `evidence-chain-N-SIZE.note` a note that showed a fork or rollback.
//!
//! HTTP only through `reqwest` without TLS features: put the witness behind a local TLS
//! terminator or use an `http://` URL on a trusted network.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use assent_ledger::{
    LedgerError, PinnedHead, PublicKeyInfo, WitnessChain, WitnessCheck, parse_proof_text,
    split_notes, verify_note,
};

/// Largest response body read from the server (notes and proofs are a few KB).
const MAX_BODY: usize = 1024 * 1024;

/// A witness's state directory, read.
pub(crate) struct WitnessState {
    pub(crate) key: PublicKeyInfo,
    pub(crate) chains: Vec<WitnessChain>,
}

fn log_path(dir: &Path, chain: u32) -> PathBuf {
    dir.join(format!("chain-{chain}.log"))
}

impl WitnessState {
    /// Reads `dir`; it must hold a pinned key. Chains are those with a log.
    pub(crate) fn load(dir: &Path) -> Result<Self> {
        let key_path = dir.join("key.json");
        let text = std::fs::read_to_string(&key_path).with_context(|| {
            format!(
                "{}: cannot read (is {} a witness state directory?)",
                key_path.display(),
                dir.display()
            )
        })?;
        let key = PublicKeyInfo::parse(&text)
            .with_context(|| format!("{}: not a public key document", key_path.display()))?;
        let mut chains = Vec::new();
        for e in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(chain) = name
                .strip_prefix("chain-")
                .and_then(|n| n.strip_suffix(".log"))
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let text = std::fs::read_to_string(e.path())?;
            chains.push(
                WitnessChain::parse(chain, &text)
                    .with_context(|| format!("{}: damaged witness log", e.path().display()))?,
            );
        }
        chains.sort_by_key(|c| c.chain);
        Ok(WitnessState { key, chains })
    }

    pub(crate) fn chain(&self, chain: u32) -> Option<&WitnessChain> {
        self.chains.iter().find(|c| c.chain == chain)
    }

    /// Every head the witness accepted, as pins for `ledger verify`.
    pub(crate) fn pins(&self) -> Vec<PinnedHead> {
        self.chains
            .iter()
            .flat_map(|c| {
                c.heads().iter().map(|&(size, root)| PinnedHead {
                    chain: c.chain,
                    size,
                    root,
                    head_hash: None,
                })
            })
            .filter(|p| p.size > 0)
            .collect()
    }

    /// Fails unless the witness follows the ledger of `key`.
    pub(crate) fn require_key(&self, key: &PublicKeyInfo) -> Result<()> {
        if self.key.key_id() != key.key_id() {
            bail!(
                "the witness follows the ledger key {}, not {}",
                self.key.key_id(),
                key.key_id()
            );
        }
        Ok(())
    }
}

/// An HTTP client for one server.
pub(crate) struct Fetcher {
    client: reqwest::Client,
    base: String,
}

impl Fetcher {
    pub(crate) fn new(base: &str) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Fetcher {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// GETs `path`: the status and at most [`MAX_BODY`] bytes of body as text.
    pub(crate) async fn get(&self, path: &str) -> Result<(u16, String)> {
        let url = format!("{}{path}", self.base);
        let mut resp = self
            .client
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.with_context(|| format!("GET {url}"))? {
            if body.len() + chunk.len() > MAX_BODY {
                bail!("GET {url}: the answer is larger than {MAX_BODY} bytes");
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).with_context(|| format!("GET {url}: not UTF-8"))?;
        Ok((status, text))
    }

    /// The consistency proof of `chain` between two sizes.
    pub(crate) async fn proof(
        &self,
        chain: u32,
        from: u64,
        to: u64,
    ) -> Result<Vec<assent_ledger::Hash>> {
        let (status, body) = self
            .get(&format!(
                "/ledger/consistency?chain={chain}&from={from}&to={to}"
            ))
            .await?;
        if status != 200 {
            bail!(
                "the server gave no consistency proof of chain {chain} from {from} to {to} (HTTP {status}: {})",
                body.trim()
            );
        }
        Ok(parse_proof_text(&body)?)
    }
}

/// Checks a head obtained elsewhere (a receipt's checkpoint) against a witness, fetching a
/// consistency proof from `fetch` when the witness has not seen that size itself.
pub(crate) async fn check_head(
    w: &WitnessChain,
    size: u64,
    root: &assent_ledger::Hash,
    fetch: Option<&Fetcher>,
) -> Result<()> {
    match w.check(size, root)? {
        WitnessCheck::Seen => Ok(()),
        WitnessCheck::NeedsProof { old_size, new_size } => {
            let Some(f) = fetch else {
                bail!(
                    "the witness has not seen chain {} at size {size}: give --url to fetch the consistency proof between {old_size} and {new_size}",
                    w.chain
                );
            };
            let proof = f.proof(w.chain, old_size, new_size).await?;
            Ok(w.check_with_proof(size, root, &proof)?)
        }
    }
}

/// `assent ledger witness --url BASE --state DIR [--key FILE]`.
pub(crate) async fn cmd_ledger_witness(
    url: &str,
    state: &Path,
    key: Option<&Path>,
) -> Result<ExitCode> {
    std::fs::create_dir_all(state).with_context(|| format!("{}", state.display()))?;
    let fetch = Fetcher::new(url)?;
    let key = pinned_key(&fetch, state, key).await?;
    let (status, body) = fetch.get("/ledger/checkpoint").await?;
    let previous = WitnessState::load(state)?;
    if status == 404 {
        if previous.chains.iter().any(|c| c.latest().is_some()) {
            eprintln!("ROLLBACK: the server has no checkpoint any more, but this witness saw some");
            return Ok(ExitCode::from(1));
        }
        println!("no checkpoint yet: nothing to witness");
        return Ok(ExitCode::SUCCESS);
    }
    if status != 200 {
        bail!("GET /ledger/checkpoint: HTTP {status}");
    }
    let mut failed = false;
    let mut served = Vec::new();
    for note in split_notes(&body) {
        let cp = match verify_note(note, key.key()) {
            Ok(cp) => cp,
            Err(e) => {
                eprintln!("BAD CHECKPOINT: {e}; the note was:\n{note}");
                failed = true;
                continue;
            }
        };
        served.push(cp.chain);
        let mut w = previous
            .chain(cp.chain)
            .cloned()
            .unwrap_or_else(|| WitnessChain::new(cp.chain));
        let proof = match w.latest() {
            Some((seen, _)) if seen < cp.size => match fetch.proof(cp.chain, seen, cp.size).await {
                Ok(p) => p,
                // An honest server proves any two signed sizes: no proof is no history.
                Err(e) => {
                    eprintln!("FORK?: chain {}: {e:#}", cp.chain);
                    failed = true;
                    continue;
                }
            },
            _ => vec![],
        };
        let before = w.latest();
        match w.advance(cp.size, cp.root, &proof) {
            Ok(true) => {
                append(
                    &log_path(state, cp.chain),
                    &WitnessChain::line(cp.size, &cp.root),
                )?;
                std::fs::write(state.join(format!("chain-{}.note", cp.chain)), note)?;
                match before {
                    Some((s, _)) => println!(
                        "chain {}: {} entries, consistent with the {s} seen before",
                        cp.chain, cp.size
                    ),
                    None => println!("chain {}: {} entries, first seen", cp.chain, cp.size),
                }
            }
            Ok(false) => println!("chain {}: {} entries, unchanged", cp.chain, cp.size),
            Err(e @ (LedgerError::Fork { .. } | LedgerError::Rollback { .. })) => {
                let kind = if matches!(e, LedgerError::Fork { .. }) {
                    "FORK"
                } else {
                    "ROLLBACK"
                };
                let evidence = state.join(format!("evidence-chain-{}-{}.note", cp.chain, cp.size));
                std::fs::write(&evidence, note)?;
                eprintln!(
                    "{kind}: {e}. The operator signed a history that contradicts the one this witness saw; the note is kept in {}",
                    evidence.display()
                );
                failed = true;
            }
            Err(e) => return Err(e.into()),
        }
    }
    for c in &previous.chains {
        if c.latest().is_some() && !served.contains(&c.chain) {
            eprintln!(
                "ROLLBACK: chain {} was seen with {} entries and is not served any more",
                c.chain,
                c.latest().map_or(0, |(s, _)| s)
            );
            failed = true;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The ledger key: `--key`, else the one pinned in the state, else the served one (pinned
/// now, trust on first use). The served key must always be the pinned one.
async fn pinned_key(fetch: &Fetcher, state: &Path, given: Option<&Path>) -> Result<PublicKeyInfo> {
    let key_path = state.join("key.json");
    let (status, served) = fetch.get("/.well-known/assent-ledger-key").await?;
    if status != 200 {
        bail!("GET /.well-known/assent-ledger-key: HTTP {status}");
    }
    let served = PublicKeyInfo::parse(&served).context("the served ledger key")?;
    let pinned = match (given, std::fs::read_to_string(&key_path)) {
        (Some(p), _) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            Some(
                PublicKeyInfo::parse(&text)
                    .with_context(|| format!("{}: not a public key document", p.display()))?,
            )
        }
        (None, Ok(text)) => Some(
            PublicKeyInfo::parse(&text)
                .with_context(|| format!("{}: not a public key document", key_path.display()))?,
        ),
        (None, Err(_)) => None,
    };
    let key = match pinned {
        Some(k) if k.key_id() != served.key_id() => bail!(
            "the server now publishes ledger key {}, but this witness follows {}: a new key needs a new witness state",
            served.key_id(),
            k.key_id()
        ),
        Some(k) => k,
        None => {
            eprintln!(
                "pinning ledger key {} on first use; check it against a copy obtained elsewhere",
                served.key_id()
            );
            served
        }
    };
    if !key_path.exists() {
        std::fs::write(&key_path, key.to_json())?;
    }
    Ok(key)
}

fn append(path: &Path, line: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}", path.display()))?;
    f.write_all(line.as_bytes())?;
    f.sync_all()?;
    Ok(())
}
